"""What the ranker reads for many users at once (a nudger pass): one statement per input,
whatever the number of users, instead of one per input and user."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa

from ppb.store.base import Row, StoreBase, _rows
from ppb.store.schema import interactions, posts, user_channels

ID_CHUNK = 5000
"""Ids per IN list: far below SQLite's and PostgreSQL's bound-parameter limits."""


def _chunks(ids: Sequence[int]) -> list[list[int]]:
    unique = sorted(set(ids))
    return [unique[start : start + ID_CHUNK] for start in range(0, len(unique), ID_CHUNK)]


class RankingBatches(StoreBase):
    async def rating_keys_many(self, user_ids: Sequence[int]) -> dict[int, list[Row]]:
        """`rating_keys` of each user (oldest first), for all of them in one statement."""
        found: dict[int, list[Row]] = {user_id: [] for user_id in user_ids}
        for chunk in _chunks(user_ids):
            query = (
                sa.select(
                    interactions.c.user_id,
                    interactions.c.post_id,
                    posts.c.channel_id,
                    posts.c.posted_at,
                    interactions.c.interaction_type,
                )
                .join(posts, posts.c.id == interactions.c.post_id)
                .where(interactions.c.user_id.in_(chunk))
                .order_by(interactions.c.id)
            )
            for row in _rows(await self.database.fetch_all(query)):
                found[int(row.pop("user_id"))].append(row)
        return found

    async def channel_ids_many(self, user_ids: Sequence[int]) -> dict[int, list[int]]:
        """Each user's channel ids, in the order `list_user_channels` gives them."""
        found: dict[int, list[int]] = {user_id: [] for user_id in user_ids}
        for chunk in _chunks(user_ids):
            records = await self.database.fetch_all(
                sa.select(user_channels.c.user_id, user_channels.c.channel_id)
                .where(user_channels.c.user_id.in_(chunk))
                .order_by(user_channels.c.id)
            )
            for record in records:
                found[int(record[0])].append(int(record[1]))
        return found

    async def co_ratings_many(self, user_ids: Sequence[int], limit: int = 5000) -> dict[int, list[Row]]:
        """`co_ratings` of each user: others' ratings of posts the user rated, newest first,
        at most `limit` per user."""
        found: dict[int, list[Row]] = defaultdict(list)
        mine = interactions.alias("mine")
        other = interactions.alias("other")
        for chunk in _chunks(user_ids):
            rank = sa.func.row_number().over(partition_by=mine.c.user_id, order_by=other.c.id.desc())
            ranked = (
                sa.select(
                    mine.c.user_id.label("me"),
                    other.c.id.label("id"),
                    other.c.user_id,
                    other.c.post_id,
                    other.c.interaction_type,
                    rank.label("n"),
                )
                .join(other, sa.and_(other.c.post_id == mine.c.post_id, other.c.user_id != mine.c.user_id))
                .where(mine.c.user_id.in_(chunk))
                .subquery()
            )
            query = (
                sa.select(ranked.c.me, ranked.c.user_id, ranked.c.post_id, ranked.c.interaction_type)
                .where(ranked.c.n <= limit)
                .order_by(ranked.c.me, ranked.c.id.desc())
            )
            for row in _rows(await self.database.fetch_all(query)):
                found[int(row.pop("me"))].append(row)
        return found

    async def ratings_of_many(self, user_ids: Sequence[int]) -> list[Row]:
        """Every rating by these people, newest first (callers take each one's share)."""
        found: list[Row] = []
        for chunk in _chunks(user_ids):
            query = (
                sa.select(interactions.c.id, interactions.c.user_id, interactions.c.post_id, interactions.c.interaction_type)
                .where(interactions.c.user_id.in_(chunk))
            )
            found.extend(_rows(await self.database.fetch_all(query)))
        found.sort(key=lambda row: row["id"], reverse=True)
        return found
