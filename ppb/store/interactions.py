"""Ratings, and the posts already in each user's chat."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from ppb.domain.errors import NotFound
from ppb.domain.interactions import InteractionType
from ppb.store import seen
from ppb.store.base import Row, _row, _rows, utcnow, writes
from ppb.store.engine import Prepared
from ppb.store.schema import chat_posts, interactions, miniapp_feed_posts, users
from ppb.store.users import UserQueries


RATING_COUNT = Prepared(sa.select(sa.func.count()).select_from(interactions).where(
    interactions.c.user_id == sa.bindparam("user_id", type_=interactions.c.user_id.type)))


class InteractionQueries(UserQueries):
    """Ratings are written by Telegram id, so these build on the users' queries."""

    async def rate(self, telegram_id: int, post_id: int, kind: InteractionType) -> Row:
        """Store a rating; rating the same post again replaces the earlier rating.

        The row carries the rater's status as `user_status` (a churned user is back).
        Committed before it returns, in one trip with whatever else is written (`Engine.rate`)."""
        now = utcnow()
        found = await self.engine.rate(telegram_id, post_id, kind.value, now)
        if found is None:
            await self.user_id(telegram_id)  # raises NotFound for an unknown user
            raise NotFound(f"post {post_id} not found")
        return {**found, "post_id": post_id, "interaction_type": kind.value, "created_at": now}

    async def rating_of(self, telegram_id: int, post_id: int) -> Row | None:
        """The person's rating of the post, if they gave one."""
        record = await self.database.fetch_one(
            sa.select(interactions)
            .join(users, users.c.id == interactions.c.user_id)
            .where(users.c.telegram_id == telegram_id, interactions.c.post_id == post_id)
        )
        return _row(record) if record is not None else None

    async def rating_count(self, user_id: int) -> int:
        return int(await self.database.fetch_val(self._bound(RATING_COUNT, user_id=user_id)) or 0)

    async def list_interactions(self, user_id: int) -> list[Row]:
        records = await self.database.fetch_all(
            sa.select(interactions)
            .where(interactions.c.user_id == user_id)
            .order_by(interactions.c.created_at, interactions.c.id)
        )
        return _rows(records)

    async def seen_post_ids(self, user_id: int) -> set[int]:
        """The posts already in the person's chat: sent as feed posts, pushes or in a digest
        (`chat_posts`), or as nudges. With the rated ones, what no feed shows again."""
        query = seen.pairs(seen.IN_CHAT, lambda table: table.c.user_id == user_id)
        return {int(record[1]) for record in await self.database.fetch_all(query)}

    async def in_chat(self, user_id: int, post_id: int) -> bool:
        """Whether the post is in the person's chat (a feed post, a push, a digest, a nudge)."""
        query = sa.select(sa.exists(seen.pairs(
            seen.IN_CHAT, lambda table: sa.and_(table.c.user_id == user_id, table.c.post_id == post_id))))
        return bool(await self.database.fetch_val(query))

    async def add_chat_posts(self, user_id: int, post_ids: Sequence[int]) -> None:
        """Remember feed posts sent into the user's chat (so they are never sent again)."""
        await self._remember(chat_posts, user_id, post_ids)

    async def add_miniapp_feed_posts(self, user_id: int, post_ids: Sequence[int]) -> None:
        """Remember feed cards dealt in the Mini App (so their ratings are feed ratings)."""
        await self._remember(miniapp_feed_posts, user_id, post_ids)

    @writes
    async def _remember(self, table: sa.Table, user_id: int, post_ids: Sequence[int]) -> None:
        """Record (user, post) pairs in `table` (one row per pair; a pair already there stays)."""
        if not post_ids:
            return
        now = utcnow()
        await self.database.execute(
            self._insert(table)
            .values([{"user_id": user_id, "post_id": post_id, "created_at": now} for post_id in post_ids])
            .on_conflict_do_nothing(index_elements=[table.c.user_id, table.c.post_id])
        )
