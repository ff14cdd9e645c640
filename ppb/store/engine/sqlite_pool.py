"""SQLite as PPB wants it: plain `sqlite3` connections the engine opens and keeps (pooled),
WAL-friendly durability, a busy timeout; `databases`' backend interface over them."""

from __future__ import annotations

import sqlite3
from typing import Any
from urllib.parse import urlencode

from databases import Database, DatabaseURL
from databases.interfaces import DatabaseBackend
from sqlalchemy.dialects.sqlite import pysqlite

from ppb.store.engine.sqlite_inline import Handle, InlineSQLiteConnection

IDLE_CONNECTIONS = 32
"""Released connections kept open: as many as are used at once in a busy process."""


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


class ConnectionPool:
    """Connections opened on first need and kept for reuse; each is used by one task at a
    time, in the loop or (waiting for a lock, or heavy) in a thread."""

    def __init__(self, url: DatabaseURL) -> None:
        database = url.database
        self._uri = bool(url.options)
        if url.options:  # sqlite:///file.db?mode=ro, sqlite:///:memory:?cache=shared
            database = f"file:{database}?{urlencode(url.options)}"
        self._database = database
        self._idle: list[Handle] = []
        self.heavy: set[str] = set()
        """SQL that proved heavy (`sqlite_inline.HEAVY_S`), shared by every connection."""
        self._keeper: sqlite3.Connection | None = None
        if url.options and "cache" in url.options:  # a shared in-memory database lives while one is open
            self._keeper = self._open()

    def _open(self) -> sqlite3.Connection:
        raw = sqlite3.connect(self._database, uri=self._uri, factory=TunedConnection, isolation_level=None,
                              check_same_thread=False)
        raw.execute("PRAGMA busy_timeout=0")  # the loop never waits for a lock (a thread does)
        return raw

    def acquire(self) -> Handle:
        while self._idle:
            handle = self._idle.pop()
            if handle.idle:
                return handle
            self._close_when_done(handle)
        return Handle(self._open())

    def release(self, handle: Handle) -> None:
        if not handle.idle:  # a cancelled caller's statement still runs in a thread
            self._close_when_done(handle)
            return
        if handle.raw.in_transaction:
            handle.raw.execute("ROLLBACK")
        if len(self._idle) < IDLE_CONNECTIONS:
            self._idle.append(handle)
        else:
            handle.raw.close()

    @staticmethod
    def _close_when_done(handle: Handle) -> None:
        assert handle.pending is not None
        handle.pending.add_done_callback(lambda _: handle.raw.close())

    def close(self) -> None:
        while self._idle:
            self._idle.pop().raw.close()
        keeper, self._keeper = self._keeper, None
        if keeper is not None:
            keeper.close()


class SQLiteBackend(DatabaseBackend):
    """Pooled connections whose statements run in the event loop (`sqlite_inline.py`)."""

    def __init__(self, database_url: DatabaseURL | str, **options: Any) -> None:
        self._url = DatabaseURL(database_url)
        self._dialect = pysqlite.dialect(paramstyle="qmark")
        self._dialect.supports_native_decimal = False
        self._pool = ConnectionPool(self._url)

    async def connect(self) -> None:
        pass  # connections open on first use

    async def disconnect(self) -> None:
        self._pool.close()

    def connection(self) -> InlineSQLiteConnection:
        return InlineSQLiteConnection(self._pool, self._dialect, self._pool.heavy)


class PPBDatabase(Database):
    """`databases.Database` with the pooled SQLite backend."""

    SUPPORTED_BACKENDS = {**Database.SUPPORTED_BACKENDS, "sqlite": "ppb.store.engine.sqlite_pool:SQLiteBackend"}
