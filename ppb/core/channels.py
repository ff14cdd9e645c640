"""A person's channels: add one (within the bonus limit), list them, remove one."""

from __future__ import annotations

from ppb.core.ports import Row
from ppb.domain.channels import ChannelName
from ppb.domain.errors import LimitReached, NotFound
from ppb.store.queries import Store


def bonus_left(user: Row, limit: int) -> int:
    """Bonus slots the person still has."""
    return max(0, limit - int(user["bonus_channels_count"]))


async def add(store: Store, telegram_id: int, name: ChannelName, *, for_training: bool, bonus: bool,
              limit: int) -> tuple[Row, bool]:
    """Link the channel; returns (link, created). A bonus channel beyond `limit` is refused
    with `LimitReached`, but a channel the person already has takes no bonus slot."""
    user = await store.get_user(telegram_id)
    channel = await store.get_channel(name)
    if bonus and not bonus_left(user, limit):
        if not await store.list_user_channels(user["id"], channel_id=channel["id"]):
            raise LimitReached(f"is_bonus: the limit of {limit} bonus channels is reached")
    return await store.add_user_channel(user["id"], channel["id"], for_training=for_training, bonus=bonus)


async def listed(store: Store, telegram_id: int) -> list[Row]:
    return await store.list_user_channels(await store.user_id(telegram_id))


async def remove(store: Store, telegram_id: int, name: ChannelName) -> None:
    """Unlink the channel (its posts leave the training set; a bonus slot is freed)."""
    user_id = await store.user_id(telegram_id)
    channel = await store.get_channel(name)
    if not await store.remove_user_channel(user_id, channel["id"]):
        raise NotFound(f"channel {name!r} is not one of this user's channels")


async def follows(store: Store, telegram_id: int, name: ChannelName, defaults: tuple[ChannelName, ...]) -> bool:
    """One of the person's channels already, or a default channel everyone trains on."""
    if name in defaults:
        return True
    return any(name.key in (row["username"], row["telegram_id"]) for row in await listed(store, telegram_id))
