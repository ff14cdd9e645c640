"""Posts: batched inserts, edits and deletions from Telegram, the scraper's cursors, the newest
posts of channels."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ppb.store.base import (
    INSERT_CHUNK,
    POST_BATCH,
    NewPost,
    Row,
    StoreBase,
    _rows,
    as_utc,
    utcnow,
    writes,
)
from ppb.store.engine import Column, Prepared
from ppb.store.schema import channels, interactions, post_vectors, posts


POST_COLUMNS = (
    Column("channel_id", "bigint"), Column("telegram_message_id", "bigint"), Column("text", "text"),
    Column("media_type", "text"), Column("posted_at", "timestamptz"), Column("created_at", "timestamptz"),
    Column("html", "text"),
)
"""The columns a batch of new posts writes, in order."""


def card_columns(post: sa.FromClause) -> list[sa.ColumnElement[object]]:
    """What a training card shows of a post (`post`: the posts table or a selection of it)
    and of its channel."""
    return [
        *(post.c[name] for name in ("id", "channel_id", "telegram_message_id", "text", "html", "media_type",
                                    "posted_at")),
        channels.c.username.label("channel_username"),
        channels.c.title.label("channel_title"),
    ]


def _unrated(statement: sa.Select[Any], unrated: bool) -> sa.Select[Any]:
    """`statement` left without the posts `user_id` rated, with `unrated`."""
    if not unrated:
        return statement
    rated = sa.select(interactions.c.post_id).where(
        interactions.c.user_id == sa.bindparam("user_id", type_=interactions.c.user_id.type))
    return statement.where(posts.c.id.not_in(rated))


CHANNELS_A_STATEMENT = 100
"""Channels one `_newest_by_index` statement reads at most (SQLite allows 500 arms in a
compound SELECT)."""


@functools.lru_cache(maxsize=64)
def _newest_by_index(unrated: bool, count: int) -> Prepared:
    """The newest `per_channel` posts of each of `count` channels (`channel_0`, ...), in that
    order, newest first; each channel read down its (channel, time) index from its newest
    post, so a channel's size costs nothing. For an engine that compiles a statement once
    (SQLite): one per channel count."""
    arms = []
    for n in range(count):
        newest = (
            sa.select(posts.c.id, sa.literal_column(str(n), sa.Integer()).label("arm"))
            .where(posts.c.channel_id == sa.bindparam(f"channel_{n}", type_=posts.c.channel_id.type),
                   posts.c.deleted_at.is_(None))
            .order_by(posts.c.posted_at.desc(), posts.c.id.desc())
            .limit(sa.bindparam("per_channel", type_=sa.Integer()))
        )
        arms.append(sa.select(_unrated(newest, unrated).subquery()))
    chosen = (sa.union_all(*arms) if count > 1 else arms[0]).subquery()
    return Prepared(
        sa.select(*card_columns(posts), channels.c.telegram_id.label("channel_telegram_id"))
        .join(chosen, chosen.c.id == posts.c.id)
        .join(channels, channels.c.id == posts.c.channel_id)
        .order_by(chosen.c.arm, posts.c.posted_at.desc(), posts.c.id.desc())
    )


@functools.lru_cache(maxsize=2)
def _newest_by_window(unrated: bool) -> Prepared:
    """The same for the channels `channel_ids`, in any order, by a window over all their
    posts: one small statement, for an engine that compiles a statement on every call
    (PostgreSQL, where the server runs the window)."""
    rank = (
        sa.func.row_number()
        .over(partition_by=posts.c.channel_id, order_by=(posts.c.posted_at.desc(), posts.c.id.desc()))
        .label("rank")
    )
    chosen = _unrated(sa.select(posts, rank).where(
        posts.c.channel_id.in_(sa.bindparam("channel_ids", expanding=True)), posts.c.deleted_at.is_(None)),
        unrated).subquery()
    return Prepared(
        sa.select(*card_columns(chosen), channels.c.telegram_id.label("channel_telegram_id"))
        .join(channels, channels.c.id == chosen.c.channel_id)
        .where(chosen.c.rank <= sa.bindparam("per_channel", type_=sa.Integer()))
    )


class PostQueries(StoreBase):
    @writes
    async def insert_posts(self, channel_id: int, batch: Sequence[NewPost]) -> int:
        """Insert one batch of posts in one statement and transaction; returns how many were
        new (posts already stored are left as they are)."""
        created, _ = await self._insert_batch(channel_id, batch)
        return created

    async def _insert_batch(self, channel_id: int, batch: Sequence[NewPost]) -> tuple[int, dict[int, int]]:
        """How many were new, and the new rows' ids by message id where the engine says
        (PostgreSQL; SQLite's prepared statement counts them only)."""
        now = utcnow()
        rows = [(channel_id, p.telegram_message_id, p.text, p.media_type, p.posted_at, now, p.html) for p in batch]
        created, made = await self.engine.insert_many(
            "posts", POST_COLUMNS, rows, conflict="ON CONFLICT (channel_id, telegram_message_id) DO NOTHING",
            returning=("telegram_message_id", "id"))
        return created, {int(message): int(post) for message, post in made or ()}

    @writes
    async def add_posts(self, channel_id: int, new_posts: Sequence[NewPost]) -> tuple[int, list[int]]:
        """Insert posts once; returns (created_count, one id per sent post, in order)."""
        first: dict[int, NewPost] = {}
        for post in new_posts:
            first.setdefault(post.telegram_message_id, post)
        unique = list(first.values())
        created = 0
        ids: dict[int, int] = {}
        for start in range(0, len(unique), POST_BATCH):
            inserted, made = await self._insert_batch(channel_id, unique[start : start + POST_BATCH])
            ids.update(made)
            created += inserted
        missing = [key for key in first if key not in ids]  # re-sent posts (every post on SQLite)
        for start in range(0, len(missing), INSERT_CHUNK):
            ids.update(await self._post_ids(channel_id, missing[start : start + INSERT_CHUNK]))
        return created, [ids[post.telegram_message_id] for post in new_posts]

    async def _post_ids(self, channel_id: int, message_ids: Sequence[int]) -> dict[int, int]:
        records = await self.database.fetch_all(
            sa.select(posts.c.telegram_message_id, posts.c.id).where(
                posts.c.channel_id == channel_id, posts.c.telegram_message_id.in_(list(message_ids))
            )
        )
        return {int(record[0]): int(record[1]) for record in records}

    @writes
    async def edit_posts(self, channel_id: int, edits: Sequence[tuple[NewPost, datetime]]) -> list[int]:
        """Apply edits made on Telegram (text, formatting, media type) to stored posts, each
        unless the edit stored is newer (Telegram's edit times are whole seconds: an edit of the
        same second is applied); returns the ids of the posts changed. The post keeps its id,
        time and `created_at`, so it is not delivered again."""
        changed: list[int] = []
        async with self.database.transaction():
            for post, edited_at in edits:
                statement = (
                    posts.update()
                    .where(
                        posts.c.channel_id == channel_id,
                        posts.c.telegram_message_id == post.telegram_message_id,
                        sa.or_(posts.c.edited_at.is_(None), posts.c.edited_at <= edited_at),
                    )
                    .values(text=post.text, html=post.html, media_type=post.media_type, edited_at=edited_at)
                    .returning(posts.c.id)
                )
                changed += [int(record[0]) for record in await self.database.fetch_all(statement)]
            if changed:  # their sentence vectors are made again from the new text
                await self.database.execute(sa.delete(post_vectors).where(post_vectors.c.post_id.in_(changed)))
        return changed

    @writes
    async def delete_posts(self, channel_id: int, message_ids: Sequence[int]) -> list[int]:
        """Mark posts deleted on Telegram: they leave feeds, training and digests, while ratings
        of them stay (and count). Returns the ids of the posts newly marked, in order (an
        UPDATE's RETURNING has none on PostgreSQL)."""
        if not message_ids:
            return []
        statement = (
            posts.update()
            .where(
                posts.c.channel_id == channel_id,
                posts.c.telegram_message_id.in_(list(message_ids)),
                posts.c.deleted_at.is_(None),
            )
            .values(deleted_at=utcnow())
            .returning(posts.c.id)
        )
        return sorted(int(record[0]) for record in await self.database.fetch_all(statement))

    async def post_cursor(self, channel_id: int) -> tuple[int | None, int | None, int]:
        """A channel's stored posts: (newest message id, oldest message id, how many)."""
        record = await self.database.fetch_one(
            sa.select(
                sa.func.max(posts.c.telegram_message_id),
                sa.func.min(posts.c.telegram_message_id),
                sa.func.count(),
            ).where(posts.c.channel_id == channel_id)
        )
        assert record is not None
        newest, oldest, count = tuple(record._mapping.values())
        return (
            int(newest) if newest is not None else None,
            int(oldest) if oldest is not None else None,
            int(count or 0),
        )

    async def latest_posts(
        self, channel_ids: Sequence[int], per_channel: int, unrated_by: int | None = None
    ) -> list[Row]:
        """The newest `per_channel` posts of each channel (those `unrated_by` has not rated);
        posts deleted on Telegram are left out."""
        ids = list(dict.fromkeys(channel_ids))
        if not ids:
            return []
        unrated = unrated_by is not None
        rated = {"user_id": unrated_by} if unrated else {}
        if self.engine.compiles_once:  # a channel's size costs nothing
            records: list[Row] = []
            for start in range(0, len(ids), CHANNELS_A_STATEMENT):
                part = ids[start : start + CHANNELS_A_STATEMENT]
                channel_values = {f"channel_{n}": channel_id for n, channel_id in enumerate(part)}
                query = self._bound(_newest_by_index(unrated, len(part)), per_channel=per_channel,
                                    **channel_values, **rated)
                records += _rows(await self.database.fetch_all(query))
            return records
        query = self._bound(_newest_by_window(unrated), channel_ids=ids, per_channel=per_channel, **rated)
        records = _rows(await self.database.fetch_all(query))
        order = {channel_id: index for index, channel_id in enumerate(ids)}
        records.sort(key=lambda row: (order[row["channel_id"]], -as_utc(row["posted_at"]).timestamp()))
        return records
