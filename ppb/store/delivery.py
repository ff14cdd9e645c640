"""Delivery: who follows the channels new posts arrived in, what each of them has seen,
each (person, new post) scored once (pushed, or waiting for their digest)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ppb.store.base import INSERT_CHUNK, Row, StoreBase, _rows, utcnow, writes
from ppb.store.console_schema import blocked_users
from ppb.store.schema import (
    channels,
    chat_posts,
    deliveries,
    interactions,
    nudges,
    posts,
    user_channels,
    user_rules,
    users,
)

DELIVERED_STATUSES = ("trained", "active", "churned")
"""Who gets pushes and digests: people with a model (a churned person may come back for one)."""


class DeliveryQueries(StoreBase):
    async def arrived_since(self, created_after: datetime, posted_after: datetime, limit: int) -> list[int]:
        """Ids of posts stored since `created_after` and posted since `posted_after`, oldest first."""
        query = (
            sa.select(posts.c.id)
            .where(posts.c.created_at >= created_after, posts.c.posted_at >= posted_after)
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
        found: set[tuple[int, int]] = set()
        for table in (interactions, chat_posts, nudges, *((deliveries,) if scored else ())):
            query = sa.select(table.c.user_id, table.c.post_id).where(
                table.c.user_id.in_(list(user_ids)), table.c.post_id.in_(list(post_ids)))
            found |= {(int(r[0]), int(r[1])) for r in await self.database.fetch_all(query)}
        return found

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
        """Record scored (user, post) pairs once; returns the pairs that were new."""
        now = utcnow()
        added: set[tuple[int, int]] = set()
        for start in range(0, len(rows), INSERT_CHUNK):
            chunk = [{**row, "created_at": now} for row in rows[start : start + INSERT_CHUNK]]
            statement = (
                self._insert(deliveries).values(chunk)
                .on_conflict_do_nothing(index_elements=[deliveries.c.user_id, deliveries.c.post_id])
                .returning(deliveries.c.user_id, deliveries.c.post_id)
            )
            added |= {(int(r[0]), int(r[1])) for r in await self.database.fetch_all(statement)}
        return added

    async def digest_candidates(self) -> list[Row]:
        """People with posts waiting for their digest, with their rules row (None: defaults)."""
        waiting = sa.select(deliveries.c.user_id).where(deliveries.c.status == "waiting").distinct().subquery()
        query = (
            sa.select(users.c.id.label("user_id"), users.c.telegram_id, users.c.language, users.c.status,
                      *[c for c in user_rules.c if c.name != "user_id"])
            .join(waiting, waiting.c.user_id == users.c.id)
            .outerjoin(user_rules, user_rules.c.user_id == users.c.id)
            .where(users.c.status.in_(DELIVERED_STATUSES))
        )
        return _rows(await self.database.fetch_all(query))

    async def waiting_posts(self, user_id: int) -> list[Row]:
        """The posts waiting for the person's digest, best first, as the feed shows them."""
        query = (
            sa.select(deliveries.c.score, posts.c.id, posts.c.text, posts.c.channel_id, posts.c.media_type,
                      posts.c.posted_at, posts.c.telegram_message_id, channels.c.title.label("channel_title"),
                      channels.c.username.label("channel_username"))
            .join(posts, posts.c.id == deliveries.c.post_id)
            .join(channels, channels.c.id == posts.c.channel_id)
            .where(deliveries.c.user_id == user_id, deliveries.c.status == "waiting")
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
    async def mark_digest_sent(self, user_id: int, rules_row: dict[str, Any], at: datetime) -> None:
        """Remember when the person's last digest went out (their rules row made if need be)."""
        values = {**rules_row, "last_digest_at": at, "updated_at": utcnow()}
        statement = self._insert(user_rules).values(user_id=user_id, **values).on_conflict_do_update(
            index_elements=[user_rules.c.user_id], set_={"last_digest_at": at})
        await self.database.execute(statement)

    async def deliveries_of(self, user_id: int) -> list[Row]:
        records = await self.database.fetch_all(
            sa.select(deliveries).where(deliveries.c.user_id == user_id).order_by(deliveries.c.id))
        return _rows(records)
