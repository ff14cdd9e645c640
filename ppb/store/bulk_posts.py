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


_COLUMNS = "channel_id, telegram_message_id, text, media_type, posted_at, created_at"
_CONFLICT = "ON CONFLICT (channel_id, telegram_message_id) DO NOTHING"
_SQLITE_INSERT = f"INSERT INTO posts ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?) {_CONFLICT}"
_POSTGRES_INSERT = (
    f"INSERT INTO posts ({_COLUMNS}) SELECT $1, m, t, k, p, $2 FROM "
    "unnest($3::bigint[], $4::text[], $5::text[], $6::timestamptz[]) AS u(m, t, k, p) "
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
            (channel_id, p.telegram_message_id, p.text, p.media_type, _SQLITE_TIME(p.posted_at), created_at)
            for p in batch
        ],
    )
    return int(raw.total_changes - before)


async def insert_postgres(raw: Any, channel_id: int, batch: Sequence[PostRow], now: datetime) -> int:
    """On an asyncpg connection; returns how many rows were new."""
    status = await raw.execute(
        _POSTGRES_INSERT,
        channel_id,
        now,
        [p.telegram_message_id for p in batch],
        [p.text for p in batch],
        [p.media_type for p in batch],
        [p.posted_at for p in batch],
    )
    return int(status.rsplit(" ", 1)[1])  # "INSERT 0 <rows>"
