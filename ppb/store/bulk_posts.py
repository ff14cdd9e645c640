"""Posts written in batches with one prepared statement per batch, by hand.

SQLAlchemy compiling a multi-row INSERT per batch cost three quarters of an import's time
(bench/ingest.py); these statements are compiled once by the driver instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.dialects import sqlite

from ppb.store.schema import posts


class PostRow(Protocol):
    telegram_message_id: int
    text: str
    media_type: str
    posted_at: datetime
    html: str | None


_COLUMNS = "channel_id, telegram_message_id, text, media_type, posted_at, created_at, html"
_CONFLICT = "ON CONFLICT (channel_id, telegram_message_id) DO NOTHING"
_SQLITE_INSERT = f"INSERT INTO posts ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?) {_CONFLICT}"
_POSTGRES_INSERT = (
    f"INSERT INTO posts ({_COLUMNS}) SELECT $1, m, t, k, p, $2, h FROM "
    "unnest($3::bigint[], $4::text[], $5::text[], $6::timestamptz[], $7::text[]) AS u(m, t, k, p, h) "
    f"{_CONFLICT}"
)
_SQLITE_TIME = posts.c.posted_at.type.dialect_impl(sqlite.dialect()).bind_processor(sqlite.dialect())
"""Times as SQLAlchemy writes them on SQLite, so they compare with every other stored time."""


async def insert_sqlite(raw: Any, channel_id: int, batch: Sequence[PostRow], now: datetime) -> int:
    """On an aiosqlite connection; returns how many rows were new."""
    assert _SQLITE_TIME is not None
    created_at = _SQLITE_TIME(now)
    before = raw.total_changes
    await raw.executemany(
        _SQLITE_INSERT,
        [
            (channel_id, p.telegram_message_id, p.text, p.media_type, _SQLITE_TIME(p.posted_at),
             created_at, p.html)
            for p in batch
        ],
    )
    return int(raw.total_changes - before)


async def insert_postgres(
    raw: Any, channel_id: int, batch: Sequence[PostRow], now: datetime
) -> dict[int, int]:
    """On an asyncpg connection; returns the new rows' ids by message id."""
    records = await raw.fetch(
        _POSTGRES_INSERT + " RETURNING telegram_message_id, id",
        channel_id,
        now,
        [p.telegram_message_id for p in batch],
        [p.text for p in batch],
        [p.media_type for p in batch],
        [p.posted_at for p in batch],
        [p.html for p in batch],
    )
    return {int(record[0]): int(record[1]) for record in records}


async def post_ids_postgres(raw: Any, channel_id: int, message_ids: Sequence[int]) -> dict[int, int]:
    """Stored posts' ids by message id, one probe of the unique index per key."""
    records = await raw.fetch(
        "SELECT p.telegram_message_id, p.id FROM unnest($2::bigint[]) AS k(m) "
        "JOIN posts AS p ON p.channel_id = $1 AND p.telegram_message_id = k.m",
        channel_id,
        list(message_ids),
    )
    return {int(record[0]): int(record[1]) for record in records}
