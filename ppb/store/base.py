"""What every resource's queries share: the database, the SQLite write queue, row helpers."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from databases import Database
from sqlalchemy.dialects import postgresql, sqlite

from ppb.store.prepared import Prepared, bound
from ppb.store.sqlite import PPBDatabase, TunedConnection

Row = dict[str, Any]
T = TypeVar("T")
INSERT_CHUNK = 500
POST_BATCH = 2000
"""Posts per insert statement: large enough to amortise a round trip, small enough to show progress."""


_holding_write_lock: ContextVar[bool] = ContextVar("ppb_store_write_lock", default=False)


def writes(method: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
    """On SQLite, one writer at a time per process.

    SQLite allows one writer; contending connections wait in its busy handler, which
    sleeps in growing steps. Queuing writers in the event loop instead keeps latency flat.
    Re-entrant within a task, so a write method may call another.
    """

    @functools.wraps(method)
    async def wrapper(self: StoreBase, *args: Any, **kwargs: Any) -> T:
        lock = self._write_lock
        if lock is None or _holding_write_lock.get():
            return await method(self, *args, **kwargs)
        async with lock:
            token = _holding_write_lock.set(True)
            try:
                return await method(self, *args, **kwargs)
            finally:
                _holding_write_lock.reset(token)

    return wrapper


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _row(record: Any) -> Row:
    return dict(record._mapping)


def _rows(records: Sequence[Any]) -> list[Row]:
    """Many records as dicts, reading the already-converted SQLAlchemy row directly.

    `databases` resolves a type processor again on every value access; over a
    10k-row feed query that was most of the time spent.
    """
    if not records:
        return []
    keys = list(records[0]._mapping.keys())
    return [dict(zip(keys, tuple(record._row))) for record in records]


@dataclass(frozen=True, slots=True)
class NewPost:
    telegram_message_id: int
    text: str
    media_type: str
    posted_at: datetime
    html: str | None = None
    """The text with its formatting as Telegram HTML (`ppb.domain.telegram_html`); None when it
    has none. `text` stays what ranking, muted words and the ad detector read."""


async def keep_session(connection: Any) -> None:
    """What asyncpg's pool runs when a connection comes back, instead of its reset query
    (advisory unlocks, CLOSE ALL, UNLISTEN, RESET ALL: a round trip per request for state
    PPB never sets). An open transaction is still rolled back."""
    if connection.is_in_transaction():
        await connection.execute("ROLLBACK")


class StoreBase:
    """The connection every resource's queries share; one instance per process, connected once."""

    def __init__(self, async_url: str) -> None:
        options: dict[str, Any] = {"factory": TunedConnection, "timeout": 30.0}
        if async_url.startswith("postgresql"):
            # no connection at start: a down database is a 503, not a crash
            options = {"min_size": 0, "max_size": 10, "reset": keep_session}
        self.database: Database = PPBDatabase(async_url, **options)
        self.dialect = "postgresql" if async_url.startswith("postgresql") else "sqlite"
        self._write_lock = asyncio.Lock() if self.dialect == "sqlite" else None

    async def connect(self) -> None:
        await self.database.connect()

    async def disconnect(self) -> None:
        await self.database.disconnect()

    def session(self) -> Any:
        """A context that makes the current task's queries share one connection."""
        return self.database.connection()

    async def ping(self) -> None:
        await self.database.fetch_val("SELECT 1")

    def _bound(self, prepared: Prepared, **values: Any) -> Any:
        """A statement built once (`prepared.py`) with this call's values, ready for `databases`."""
        return bound(self.dialect, prepared, values)

    def _insert(self, table: sa.Table) -> Any:
        module = postgresql if self.dialect == "postgresql" else sqlite
        return module.insert(table)
