"""A person's channels: add one (within the bonus limit), list them, remove one; and the
default channels everyone trains on: those DEFAULT_CHANNELS names (always), and those an
operator marks default in the store (the console)."""

from __future__ import annotations

from collections.abc import Sequence

from ppb.core.ports import Row
from ppb.domain.channels import ChannelName
from ppb.domain.errors import Conflict, LimitReached, NotFound
from ppb.store.admin import Admin
from ppb.store.queries import Store


def bonus_left(user: Row, limit: int) -> int:
    """Bonus slots the person still has."""
    return max(0, limit - int(user["bonus_channels_count"]))


async def add(store: Store, telegram_id: int, name: ChannelName, *, for_training: bool, bonus: bool,
              limit: int, configured: Sequence[ChannelName] = ()) -> tuple[Row, bool]:
    """Link the channel; returns (link, created). A bonus channel beyond `limit` is refused
    with `LimitReached`, but a channel the person already has, or a default channel
    (`configured` or marked), takes no bonus slot."""
    user = await store.get_user(telegram_id)
    channel = await store.get_channel(name)
    if bonus and name_of(channel) in await defaults(store, configured):
        bonus = False
    if bonus and not bonus_left(user, limit):
        if not await store.list_user_channels(user["id"], channel_id=channel["id"]):
            raise LimitReached(f"is_bonus: the limit of {limit} bonus channels is reached")
    return await store.add_user_channel(user["id"], channel["id"], for_training=for_training, bonus=bonus)


async def listed(store: Store, telegram_id: int, configured: Sequence[ChannelName] = ()) -> list[Row]:
    """The person's channels; `is_default` says whether each is a default channel (by
    DEFAULT_CHANNELS or marked in the store)."""
    rows = await store.list_user_channels(await store.user_id(telegram_id))
    named = set(configured)
    return [{**row, "is_default": bool(row.get("is_default")) or name_of(row) in named} for row in rows]


async def remove(store: Store, telegram_id: int, name: ChannelName) -> None:
    """Unlink the channel (its posts leave the training set; a bonus slot is freed). A default
    channel too: it is not linked for the person again until they add it."""
    user_id = await store.user_id(telegram_id)
    channel = await store.get_channel(name)
    if not await store.remove_user_channel(user_id, channel["id"]):
        raise NotFound(f"channel {name!r} is not one of this user's channels")


def name_of(row: Row) -> ChannelName:
    return ChannelName(username=row["username"]) if row["username"] else ChannelName(telegram_id=row["telegram_id"])


async def defaults(store: Store, configured: Sequence[ChannelName]) -> list[ChannelName]:
    """The default channels: the configured ones first, then those marked in the store."""
    return list(dict.fromkeys([*configured, *(name_of(row) for row in await store.marked_default_channels())]))


def with_default_source(rows: Sequence[Row], configured: Sequence[ChannelName]) -> list[Row]:
    """Channel rows with `is_default` as training sees it and `default_by`: "setting"
    (DEFAULT_CHANNELS, which the console cannot unmark), "mark" (the console), or None."""
    named = set(configured)
    found = []
    for row in rows:
        source = "setting" if name_of(row) in named else "mark" if row.get("is_default") else None
        found.append({**row, "is_default": source is not None, "default_by": source})
    return found


async def mark_default(store: Store, name: ChannelName, is_default: bool,
                       configured: Sequence[ChannelName]) -> Row:
    """Mark a channel default (or not); a DEFAULT_CHANNELS one stays default whatever the mark."""
    if not is_default and name in configured:
        raise Conflict(f"is_default: {name!r} is a default channel by DEFAULT_CHANNELS; "
                       "change that setting to drop it")
    channel = await store.get_channel(name)
    await Admin(store).set_default(int(channel["id"]), is_default)
    return {**channel, "is_default": is_default}


async def follows(store: Store, telegram_id: int, name: ChannelName, configured: Sequence[ChannelName]) -> bool:
    """One of the person's channels already, or a default channel everyone trains on."""
    if name in await defaults(store, configured):
        return True
    return any(name.key in (row["username"], row["telegram_id"]) for row in await listed(store, telegram_id))
