"""What every resource's queries share: the engine (`engine/`), the one-writer lock, row helpers."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from databases import Database

from ppb.store.engine import Engine, Prepared, open_engine

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
        lock = self.engine.write_lock
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
    """Many records as dicts, reading each row's values at once.

    `databases` resolves a type processor again on every access by key; over a
    10k-row feed query that was most of the time spent.
    """
    if not records:
        return []
    keys = list(records[0]._mapping.keys())
    return [dict(zip(keys, record.values())) for record in records]


@dataclass(frozen=True, slots=True)
class NewPost:
    telegram_message_id: int
    text: str
    media_type: str
    posted_at: datetime
    html: str | None = None
    """The text with its formatting as Telegram HTML (`ppb.domain.telegram_html`); None when it
    has none. `text` stays what ranking, muted words and the ad detector read."""


class StoreBase:
    """The engine every resource's queries share; one instance per process, connected once."""

    def __init__(self, async_url: str, *, activity_every: float = 60.0) -> None:
        """`activity_every`: a person's ratings within this many seconds stamp their activity
        once, where the engine stamps per rating (`Settings.activity_every`)."""
        self.engine: Engine = open_engine(async_url)
        self.engine.activity_every(activity_every)
        self.database: Database = self.engine.database

    async def connect(self) -> None:
        await self.engine.connect()

    async def disconnect(self) -> None:
        await self.engine.disconnect()

    def session(self) -> Any:
        """A context that makes the current task's queries share one connection."""
        return self.engine.session()

    async def ping(self) -> None:
        await self.engine.ping()

    def _bound(self, prepared: Prepared, **values: Any) -> Any:
        """A statement built once (`engine/prepared.py`) with this call's values, ready to run."""
        return self.engine.bound(prepared, values)

    def _insert(self, table: sa.Table) -> Any:
        return self.engine.insert(table)
