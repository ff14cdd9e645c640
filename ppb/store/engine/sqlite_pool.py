"""SQLite as PPB wants it: pooled connections, WAL-friendly durability, a busy timeout."""

from __future__ import annotations

import sqlite3
from typing import Any

import aiosqlite
from databases import Database
from databases.backends.sqlite import SQLiteBackend, SQLitePool

from ppb.store.engine.sqlite_inline import InlineSQLiteConnection, StatementCache

IDLE_CONNECTIONS = 32
"""Released connections kept open: as many as are used at once in a busy process (each
opened one costs a thread and a connect, in the loop's way)."""


class TunedConnection(sqlite3.Connection):
    """Every connection runs these pragmas first.

    synchronous=NORMAL in WAL mode keeps every committed write across a crash of the
    process (only a power loss can cost the last commits) and saves an fsync per write.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.execute("PRAGMA synchronous=NORMAL")
        self.execute("PRAGMA busy_timeout=30000")
        self.execute("PRAGMA foreign_keys=ON")


class ReusingSQLitePool(SQLitePool):
    """Keeps released connections for reuse: `databases` opens a new one (and a thread) per use."""

    def __init__(self, url: Any, **options: Any) -> None:
        super().__init__(url, **options)
        self._idle: list[aiosqlite.Connection] = []

    async def acquire(self) -> aiosqlite.Connection:
        if self._idle:
            return self._idle.pop()
        return await super().acquire()

    async def release(self, connection: aiosqlite.Connection) -> None:
        if len(self._idle) < IDLE_CONNECTIONS and not connection.in_transaction:
            self._idle.append(connection)
        else:
            await super().release(connection)

    async def close_idle(self) -> None:
        while self._idle:
            await self._idle.pop().close()


class PooledSQLiteBackend(SQLiteBackend):
    """Pooled connections whose statements run in the event loop (`sqlite_inline.py`)."""

    def __init__(self, database_url: Any, **options: Any) -> None:
        options.setdefault("check_same_thread", False)  # opened in aiosqlite's thread, used in the loop
        super().__init__(database_url, **options)
        self._pool = ReusingSQLitePool(self._database_url, **self._options)
        self._statements = StatementCache(self._dialect)

    def connection(self) -> InlineSQLiteConnection:  # type: ignore[override]
        return InlineSQLiteConnection(self._pool, self._dialect, self._statements)

    async def disconnect(self) -> None:
        await self._pool.close_idle()
        await super().disconnect()


class PPBDatabase(Database):
    """`databases.Database` with the pooled SQLite backend."""

    SUPPORTED_BACKENDS = {**Database.SUPPORTED_BACKENDS, "sqlite": "ppb.store.engine.sqlite_pool:PooledSQLiteBackend"}
