"""Delivery: who follows the channels new posts arrived in, what each of them has seen,
each (person, new post) scored once (pushed, or waiting for their digest)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ppb.store import seen
from ppb.store.base import Row, StoreBase, _rows, utcnow, writes
from ppb.store.console_schema import blocked_users
from ppb.store.engine import Column
from ppb.store.rules import decoded_rules
from ppb.store.schema import (
    channels,
    chat_posts,
    deliveries,
    posts,
    user_channels,
    user_rules,
    users,
)

DELIVERY_COLUMNS = (
    Column("user_id", "bigint"), Column("post_id", "bigint"), Column("score", "float8"), Column("route", "text"),
    Column("status", "text"), Column("story", "text"), Column("created_at", "timestamptz"),
)
"""The columns a batch of scored pairs writes, in order."""
DELIVERED_STATUSES = ("trained", "active", "churned")
"""Who gets pushes and digests: people with a model (a churned person may come back for one)."""


class DeliveryQueries(StoreBase):
    async def arrived_since(self, created_after: datetime, posted_after: datetime, after_id: int,
                            limit: int) -> list[int]:
        """Ids above `after_id` of posts stored since `created_after` and posted since
        `posted_after`, in id order (a page: call again from the last id)."""
        query = (
            sa.select(posts.c.id)
            .where(posts.c.created_at >= created_after, posts.c.posted_at >= posted_after, posts.c.id > after_id,
                   posts.c.deleted_at.is_(None))
            .order_by(posts.c.id)
            .limit(limit)
        )
        return [int(r[0]) for r in await self.database.fetch_all(query)]

    async def followers(self, channel_ids: Sequence[int]) -> list[Row]:
        """(user, channel) for every trained person following these channels, not blocked."""
        if not channel_ids:
            return []
        blocked = sa.select(blocked_users.c.user_id)
        query = (
            sa.select(users.c.id.label("user_id"), users.c.telegram_id, users.c.language, user_channels.c.channel_id)
            .join(user_channels, user_channels.c.user_id == users.c.id)
            .where(user_channels.c.channel_id.in_(list(channel_ids)), users.c.is_trained == sa.true(),
                   users.c.status.in_(DELIVERED_STATUSES), users.c.id.not_in(blocked))
        )
        return _rows(await self.database.fetch_all(query))

    async def seen_pairs(self, user_ids: Sequence[int], post_ids: Sequence[int], *,
                         scored: bool = True) -> set[tuple[int, int]]:
        """(user, post) among these that was rated, sent into the chat, nudged (or, with
        `scored`, scored on arrival already)."""
        if not user_ids or not post_ids:
            return set()
        query = seen.pairs((*seen.SEEN, *((deliveries,) if scored else ())), lambda table: sa.and_(
            table.c.user_id.in_(list(user_ids)), table.c.post_id.in_(list(post_ids))))
        return {(int(r[0]), int(r[1])) for r in await self.database.fetch_all(query)}

    async def recent_stories(self, user_ids: Sequence[int], since: datetime) -> set[tuple[int, str]]:
        """(user, story) delivered (pushed or waiting) since `since`: one post per story."""
        if not user_ids:
            return set()
        query = sa.select(deliveries.c.user_id, deliveries.c.story).where(
            deliveries.c.user_id.in_(list(user_ids)), deliveries.c.created_at >= since,
            deliveries.c.status != "dropped")
        return {(int(r[0]), str(r[1])) for r in await self.database.fetch_all(query)}

    @writes
    async def add_deliveries(self, rows: Sequence[dict[str, Any]]) -> set[tuple[int, int]]:
        """Record scored (user, post) pairs once; returns the pairs that were new (on SQLite,
        whose one writer is the deliverer, the pairs sent: callers leave out known ones)."""
        if not rows:
            return set()
        now = utcnow()
        _, made = await self.engine.insert_many(
            "deliveries", DELIVERY_COLUMNS,
            [(row["user_id"], row["post_id"], row["score"], row["route"], row["status"], row["story"], now)
             for row in rows],
            conflict="ON CONFLICT (user_id, post_id) DO NOTHING", returning=("user_id", "post_id"))
        if made is None:  # the engine cannot say which were new: the pairs sent
            return {(int(row["user_id"]), int(row["post_id"])) for row in rows}
        return {(int(user), int(post)) for user, post in made}

    async def digest_candidates(self) -> list[Row]:
        """People with posts waiting for their digest, with their rules row (None: defaults) and
        `waiting_since`, when the oldest of those posts arrived."""
        waiting = (
            sa.select(deliveries.c.user_id,
                      sa.func.min(deliveries.c.created_at, type_=deliveries.c.created_at.type).label("waiting_since"))
            .where(deliveries.c.status == "waiting")
            .group_by(deliveries.c.user_id)
            .subquery()
        )
        query = (
            sa.select(users.c.id.label("user_id"), users.c.telegram_id, users.c.language, users.c.status,
                      waiting.c.waiting_since, *[c for c in user_rules.c if c.name != "user_id"])
            .join(waiting, waiting.c.user_id == users.c.id)
            .outerjoin(user_rules, user_rules.c.user_id == users.c.id)
            .where(users.c.status.in_(DELIVERED_STATUSES))
        )
        return [decoded_rules(row) for row in _rows(await self.database.fetch_all(query))]

    async def waiting_posts(self, user_id: int) -> list[Row]:
        """The posts waiting for the person's digest, best first, as the feed shows them."""
        query = (
            sa.select(deliveries.c.score, posts.c.id, posts.c.text, posts.c.html, posts.c.channel_id,
                      posts.c.media_type, posts.c.posted_at, posts.c.telegram_message_id,
                      channels.c.title.label("channel_title"), channels.c.username.label("channel_username"))
            .join(posts, posts.c.id == deliveries.c.post_id)
            .join(channels, channels.c.id == posts.c.channel_id)
            .where(deliveries.c.user_id == user_id, deliveries.c.status == "waiting", posts.c.deleted_at.is_(None))
            .order_by(deliveries.c.score.desc(), deliveries.c.id)
        )
        return _rows(await self.database.fetch_all(query))

    @writes
    async def close_digest(self, user_id: int, sent_ids: Sequence[int]) -> None:
        """The digest is queued: its posts are sent, the other waiting ones will not be."""
        async with self.database.transaction():
            if sent_ids:
                await self.database.execute(deliveries.update().where(
                    deliveries.c.user_id == user_id, deliveries.c.post_id.in_(list(sent_ids))).values(status="queued"))
            await self.database.execute(deliveries.update().where(
                deliveries.c.user_id == user_id, deliveries.c.status == "waiting").values(status="dropped"))

    @writes
    async def add_chat_pairs(self, pairs: Sequence[tuple[int, int]]) -> None:
        """(user, post) pairs sent into chats (never sent by the feed again), in one statement."""
        if not pairs:
            return
        now = utcnow()
        await self.database.execute(self._insert(chat_posts).values(
            [{"user_id": u, "post_id": p, "created_at": now} for u, p in pairs]).on_conflict_do_nothing(
            index_elements=[chat_posts.c.user_id, chat_posts.c.post_id]))

    @writes
    async def mark_digest_sent(self, user_id: int, rules_row: dict[str, Any], at: datetime) -> None:
        """Remember when the person's last digest went out (their rules row made if need be)."""
        values = {**rules_row, "last_digest_at": at, "updated_at": utcnow()}
        statement = self._insert(user_rules).values(user_id=user_id, **values).on_conflict_do_update(
            index_elements=[user_rules.c.user_id], set_={"last_digest_at": at})
        await self.database.execute(statement)
