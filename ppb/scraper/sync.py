"""Writing content into the store: channels keep what is known of them, posts in batches."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from ppb.domain.channels import ChannelRef
from ppb.store.queries import NewPost, Row, Store, utcnow
from ppb.store.schema import posts

BATCH = 2000
"""Posts per write: large enough to amortise a round trip, small enough to show progress."""


def marked_channel_id(bare_id: int) -> int:
    """Telegram's bare channel id -> the `-100…` id PPB stores and accepts."""
    return bare_id if bare_id < 0 else -(10**12 + bare_id)


@dataclass(frozen=True, slots=True)
class Cursor:
    """What the store holds of a channel: its newest and oldest post keys and how many."""

    newest: int | None
    oldest: int | None
    count: int


async def channel_cursor(store: Store, channel_id: int) -> Cursor:
    record = await store.database.fetch_one(
        sa.select(
            sa.func.max(posts.c.telegram_message_id),
            sa.func.min(posts.c.telegram_message_id),
            sa.func.count(),
        ).where(posts.c.channel_id == channel_id)
    )
    assert record is not None
    newest, oldest, count = tuple(record._mapping.values())
    return Cursor(
        int(newest) if newest is not None else None,
        int(oldest) if oldest is not None else None,
        int(count or 0),
    )


async def save_channel(store: Store, telegram_id: int, username: str | None, title: str) -> Row:
    """Create or refresh a channel; a username already stored is kept when none is given."""
    if username is None:
        known = await store.find_channels([ChannelRef(telegram_id=telegram_id)])
        if known:
            username = known[0]["username"]
    return await store.upsert_channel(telegram_id, username, title)


async def save_posts(
    store: Store,
    channel_id: int,
    new_posts: Sequence[NewPost],
    on_batch: Callable[[int], None] | None = None,
) -> int:
    """Insert posts in batches, each one statement (or one prepared executemany) in one
    transaction; returns how many were new. Re-sent posts are left as they are."""
    created = 0
    unique = list({post.telegram_message_id: post for post in new_posts}.values())
    for start in range(0, len(unique), BATCH):
        batch = unique[start : start + BATCH]
        async with store.session() as connection:
            async with store.database.transaction():
                if store.dialect == "postgresql":
                    created += await _insert_postgres(connection.raw_connection, channel_id, batch)
                else:
                    created += await _insert_sqlite(connection.raw_connection, channel_id, batch)
        if on_batch is not None:
            on_batch(len(batch))
    return created


# Written by hand rather than compiled by SQLAlchemy per batch: compiling a multi-row
# INSERT cost three quarters of the import's time (bench/ingest.py).
_COLUMNS = "channel_id, telegram_message_id, text, media_type, posted_at, created_at"
_CONFLICT = "ON CONFLICT (channel_id, telegram_message_id) DO NOTHING"
_SQLITE_INSERT = f"INSERT INTO posts ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?) {_CONFLICT}"
_POSTGRES_INSERT = (
    f"INSERT INTO posts ({_COLUMNS}) SELECT $1, m, t, k, p, $2 FROM "
    "unnest($3::bigint[], $4::text[], $5::text[], $6::timestamptz[]) AS u(m, t, k, p) "
    f"{_CONFLICT}"
)
_SQLITE_TIME = posts.c.posted_at.type.dialect_impl(sqlite.dialect()).bind_processor(sqlite.dialect())


async def _insert_sqlite(raw: Any, channel_id: int, batch: Sequence[NewPost]) -> int:
    assert _SQLITE_TIME is not None
    now = _SQLITE_TIME(utcnow())
    before = raw.total_changes
    await raw.executemany(
        _SQLITE_INSERT,
        [
            (channel_id, post.telegram_message_id, post.text, post.media_type, _SQLITE_TIME(post.posted_at), now)
            for post in batch
        ],
    )
    return int(raw.total_changes - before)


async def _insert_postgres(raw: Any, channel_id: int, batch: Sequence[NewPost]) -> int:
    status = await raw.execute(
        _POSTGRES_INSERT,
        channel_id,
        utcnow(),
        [post.telegram_message_id for post in batch],
        [post.text for post in batch],
        [post.media_type for post in batch],
        [post.posted_at for post in batch],
    )
    return int(status.rsplit(" ", 1)[1])  # "INSERT 0 <rows>"
