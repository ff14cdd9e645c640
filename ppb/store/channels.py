"""Channels, and the channels each user follows (with the bonus limit)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from ppb.domain.channels import ChannelName, normalize_username
from ppb.domain.errors import Conflict, NotFound
from ppb.store.base import Row, StoreBase, _row, _rows, utcnow, writes
from ppb.store.engine import Prepared
from ppb.store.schema import channels, dropped_channels, posts, training_items, user_channels, users

USER_CHANNEL_IDS = Prepared(
    sa.select(channels.c.id)
    .join(user_channels, user_channels.c.channel_id == channels.c.id)
    .where(user_channels.c.user_id == sa.bindparam("user_id", type_=user_channels.c.user_id.type))
    .order_by(user_channels.c.id)
)
"""The ids of `list_user_channels`, in its order (every feed call reads them)."""
FIND_CHANNELS = Prepared(
    sa.select(channels).where(sa.or_(
        channels.c.username.in_(sa.bindparam("names", expanding=True)),
        channels.c.telegram_id.in_(sa.bindparam("ids", expanding=True)),
    ))
)
"""Channels by username or Telegram id (each training's start reads them)."""


class ChannelQueries(StoreBase):
    @writes
    async def upsert_channel(
        self, telegram_id: int, username: str | None, title: str, is_default: bool = False
    ) -> Row:
        """Create or refresh a channel by its Telegram id (titles and usernames change)."""
        name = normalize_username(username)
        if name is not None:
            holder = await self.database.fetch_val(
                sa.select(channels.c.telegram_id).where(channels.c.username == name)
            )
            if holder is not None and int(holder) != telegram_id:
                raise Conflict(
                    f"username: @{name} already belongs to channel {holder}, not {telegram_id}"
                )
        now = utcnow()
        statement = self._insert(channels).values(
            telegram_id=telegram_id, username=name, title=title, is_default=is_default, created_at=now
        )
        updates: dict[str, Any] = {"username": name, "title": title}
        if is_default:
            updates["is_default"] = True
        await self.database.execute(
            statement.on_conflict_do_update(index_elements=[channels.c.telegram_id], set_=updates)
        )
        return await self.get_channel(ChannelName(telegram_id=telegram_id))

    async def get_channel(self, ref: ChannelName) -> Row:
        found = await self.find_channels([ref])
        if not found:
            raise NotFound(f"channel {ref!r} not found")
        return found[0]

    async def find_channels(self, refs: Sequence[ChannelName]) -> list[Row]:
        """The channels named, in the order named; unknown ones are left out."""
        names = [ref.username for ref in refs if ref.username]
        ids = [ref.telegram_id for ref in refs if ref.telegram_id is not None]
        if not names and not ids:
            return []
        records = await self.database.fetch_all(self._bound(FIND_CHANNELS, names=names, ids=ids))
        by_name = {record["username"]: _row(record) for record in records if record["username"]}
        by_id = {record["telegram_id"]: _row(record) for record in records}
        ordered: list[Row] = []
        for ref in refs:
            row = by_name.get(ref.username) if ref.username else by_id.get(ref.telegram_id)
            if row is not None and row not in ordered:
                ordered.append(row)
        return ordered

    async def channels_by_ids(self, channel_ids: Sequence[int]) -> list[Row]:
        """The channels with these ids (the store's), by id; unknown ones are left out."""
        if not channel_ids:
            return []
        query = sa.select(channels).where(channels.c.id.in_(list(channel_ids))).order_by(channels.c.id)
        return _rows(await self.database.fetch_all(query))

    async def list_channels(self) -> list[Row]:
        records = await self.database.fetch_all(sa.select(channels).order_by(channels.c.id))
        return _rows(records)

    async def marked_default_channels(self) -> list[Row]:
        """The channels marked default in the store (the console, `POST /channels`, the demo)."""
        query = sa.select(channels).where(channels.c.is_default.is_(True)).order_by(channels.c.id)
        return _rows(await self.database.fetch_all(query))

    # a user's channels ---------------------------------------------------------------

    @writes
    async def link_channels(
        self, user_id: int, channel_ids: Iterable[int], *, for_training: bool, bonus: bool = False
    ) -> None:
        """Link channels to a user; an existing link is kept and only gains flags."""
        statement = link_statement(self._insert(user_channels), user_id, channel_ids, for_training=for_training,
                                   bonus=bonus)
        if statement is not None:
            await self.database.execute(statement)

    @writes
    async def add_user_channel(
        self, user_id: int, channel_id: int, *, for_training: bool, bonus: bool
    ) -> tuple[Row, bool]:
        """Link one channel; returns (link, created). A new bonus link counts toward the user;
        a channel the user already has stays as it is (no bonus slot is taken for it)."""
        existing = await self._user_channel(user_id, channel_id)
        async with self.database.transaction():
            await self.database.execute(dropped_channels.delete().where(  # added again: no longer dropped
                dropped_channels.c.user_id == user_id, dropped_channels.c.channel_id == channel_id))
            await self.link_channels(user_id, [channel_id], for_training=for_training, bonus=bonus and not existing)
            if bonus and not existing:
                await self.database.execute(
                    users.update()
                    .where(users.c.id == user_id)
                    .values(bonus_channels_count=users.c.bonus_channels_count + 1)
                )
        link = await self._user_channel(user_id, channel_id)
        assert link is not None
        return link, existing is None

    async def _user_channel(self, user_id: int, channel_id: int) -> Row | None:
        records = await self.list_user_channels(user_id, channel_id=channel_id)
        return records[0] if records else None

    async def user_channel_ids(self, user_id: int) -> list[int]:
        """The ids of the user's channels, as `list_user_channels` orders them."""
        return [int(record[0]) for record in await self.database.fetch_all(self._bound(USER_CHANNEL_IDS, user_id=user_id))]

    async def list_user_channels(self, user_id: int, channel_id: int | None = None) -> list[Row]:
        query = (
            sa.select(
                channels,
                user_channels.c.is_for_training,
                user_channels.c.is_bonus,
                user_channels.c.created_at.label("linked_at"),
            )
            .join(user_channels, user_channels.c.channel_id == channels.c.id)
            .where(user_channels.c.user_id == user_id)
            .order_by(user_channels.c.id)
        )
        if channel_id is not None:
            query = query.where(channels.c.id == channel_id)
        return _rows(await self.database.fetch_all(query))

    async def dropped_channel_ids(self, user_id: int) -> set[int]:
        """The channels the user removed (and has not added again)."""
        query = sa.select(dropped_channels.c.channel_id).where(dropped_channels.c.user_id == user_id)
        return {int(record[0]) for record in await self.database.fetch_all(query)}

    @writes
    async def remove_user_channel(self, user_id: int, channel_id: int) -> bool:
        """Unlink the channel, remembered as dropped (a default one is not linked again)."""
        link = await self._user_channel(user_id, channel_id)
        if link is None:
            return False
        async with self.database.transaction():
            await self.database.execute(self._insert(dropped_channels).values(
                user_id=user_id, channel_id=channel_id, created_at=utcnow()).on_conflict_do_nothing(
                index_elements=[dropped_channels.c.user_id, dropped_channels.c.channel_id]))
            await self.database.execute(
                user_channels.delete().where(
                    user_channels.c.user_id == user_id, user_channels.c.channel_id == channel_id
                )
            )
            await self.database.execute(  # its posts leave the training set too
                training_items.delete().where(
                    training_items.c.user_id == user_id,
                    training_items.c.post_id.in_(sa.select(posts.c.id).where(posts.c.channel_id == channel_id)),
                )
            )
            if link["is_bonus"]:
                await self.database.execute(
                    users.update()
                    .where(users.c.id == user_id, users.c.bonus_channels_count > 0)
                    .values(bonus_channels_count=users.c.bonus_channels_count - 1)
                )
        return True


def link_statement(insert: Any, user_id: int, channel_ids: Iterable[int], *, for_training: bool,
                   bonus: bool = False) -> Any:
    """One statement linking these channels to a user (an existing link kept, only gaining
    flags); None for no channels. `insert` is the dialect's `insert(user_channels)`."""
    now = utcnow()
    rows = [{"user_id": user_id, "channel_id": channel_id, "is_for_training": for_training, "is_bonus": bonus,
             "created_at": now} for channel_id in dict.fromkeys(channel_ids)]
    if not rows:
        return None
    statement = insert.values(rows)
    updates: dict[str, Any] = {}
    if for_training:
        updates["is_for_training"] = True
    if bonus:
        updates["is_bonus"] = True
    keys = [user_channels.c.user_id, user_channels.c.channel_id]
    if updates:
        return statement.on_conflict_do_update(index_elements=keys, set_=updates)
    return statement.on_conflict_do_nothing(index_elements=keys)
