"""SQLite statements run in the event loop on a plain `sqlite3` connection.

A point query costs SQLite tens of microseconds; sending it to a connection's own thread
(as aiosqlite does) waits for the GIL, up to the interpreter's switch interval (5 ms) when
the loop is busy, and a write queued behind the process's write lock waited for every such
hop of the one before it. Here a statement runs on the connection right in the loop, and
only when SQLite would have to wait (another process holds the write lock: `SQLITE_BUSY`)
does it go to a thread and wait there, with the usual busy timeout, so the loop never
stalls on a lock. A statement that turns out heavy (more than `HEAVY_S` of SQLite's CPU: a
console report, a large scan) runs in a thread from then on, so it does not hold up every
other request of the process either.

Statements built once (`prepared.py`) are compiled once and each call's values bound
straight in; others are compiled per call. Only SQLAlchemy's public compiler API is used
(`string`, `positiontup`, `params`, `construct_expanded_state`, the types' processors), and
rows are decoded by their columns' types (`sqlite_rows.py`).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
import uuid
from collections.abc import AsyncGenerator, Callable
from typing import Any

from databases.interfaces import ConnectionBackend, TransactionBackend
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.sql import ClauseElement

from ppb.store.engine.prepared import Bound
from ppb.store.engine.sqlite_busy import busy, patiently
from ppb.store.engine.sqlite_rows import Record, RowReader

BUSY_TIMEOUT_MS = 30_000
"""How long a statement sent to a thread waits for another process's lock."""
HEAVY_S = 0.002
"""A statement whose run cost more CPU than this (a console report, a big scan) keeps the
loop no longer: its later runs go to a thread, where SQLite releases the GIL."""
HEAVY_KEPT = 1000
"""Heavy statements remembered at most (their SQL)."""


class Statement:
    """A compiled statement: its SQL, its parameters in order with their bind processors,
    the reader of its rows."""

    __slots__ = ("compiled", "sql", "names", "processors", "defaults", "expanding", "reader")

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.compiled = compiled
        self.sql: str = compiled.string
        self.names: list[str] = list(getattr(compiled, "positiontup", None) or [])
        self.expanding = bool(getattr(compiled, "post_compile_params", None)
                              or getattr(compiled, "literal_execute_params", None))
        self.defaults: dict[str, Any] = dict(compiled.params) if self.names or self.expanding else {}
        """The statement's own values (a literal in a prepared statement), under each call's."""
        self.processors: dict[str, Callable[[Any], Any]] = {}
        for name in self.names if not self.expanding else ():
            kind = compiled.binds[name].type
            process = kind.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                self.processors[name] = process
        self.reader = RowReader(statement, dialect)

    def arguments(self, values: dict[str, Any]) -> tuple[str, list[Any]]:
        """The SQL to run and its arguments in order (IN lists expanded for these values)."""
        if self.expanding:
            state = self.compiled.construct_expanded_state({**self.defaults, **values})
            processors, given = state.processors, state.parameters
            return state.statement, [processors[name](given[name]) if name in processors else given[name]
                                     for name in state.positiontup or ()]
        given = {**self.defaults, **values} if values else self.defaults
        processors = self.processors
        return self.sql, [processors[name](given[name]) if name in processors else given[name]
                          for name in self.names]


def prepare(query: ClauseElement | Bound, dialect: Dialect) -> tuple[Statement, str, list[Any]]:
    """The statement compiled (a prepared one once, kept with it), its SQL and this call's
    arguments."""
    if isinstance(query, Bound):
        statement = query.prepared.compiled.get("sqlite")  # every store's SQLite dialect is configured alike
        if statement is None:
            statement = query.prepared.compiled["sqlite"] = Statement(query.prepared.statement, dialect)
        return (statement, *statement.arguments(query.values))
    statement = Statement(query, dialect)
    return (statement, *statement.arguments({}))


def _run(raw: sqlite3.Connection, sql: str, args: list[Any], fetch: int) -> tuple[Any, Any, Any]:
    """Run one statement: (description, rows or row, result of `execute`). `fetch`: 0 none,
    1 one row, 2 all rows."""
    cursor = raw.execute(sql, args)
    try:
        if fetch == 2:
            return cursor.description, cursor.fetchall(), None
        if fetch == 1:
            return cursor.description, cursor.fetchone(), None
        return None, None, cursor.rowcount if cursor.lastrowid == 0 else cursor.lastrowid
    finally:
        cursor.close()


def waiting(raw: sqlite3.Connection, work: Callable[[], Any]) -> Any:
    """`work()` in a thread, waiting for the lock (`sqlite_busy.py`) as long as SQLite is
    told to; `raw` waits for no lock afterwards (it is used in the loop)."""
    return patiently(raw, work, BUSY_TIMEOUT_MS, 0)


class Handle:
    """A pooled connection and the thread's work on it still under way, if any (a caller
    cancelled while its statement waited in a thread: the connection is not reused before
    that statement ends)."""

    __slots__ = ("raw", "pending")

    def __init__(self, raw: sqlite3.Connection) -> None:
        self.raw = raw
        self.pending: asyncio.Future[Any] | None = None

    @property
    def idle(self) -> bool:
        return self.pending is None or self.pending.done()

    async def in_thread(self, work: Callable[[], Any]) -> Any:
        """`work()` (on `raw`) in a thread, waiting for the lock there; the connection is
        this task's meanwhile."""
        future = asyncio.get_running_loop().run_in_executor(None, waiting, self.raw, work)
        self.pending = future
        return await asyncio.shield(future)


class InlineSQLiteConnection(ConnectionBackend):
    """`databases`' connection interface over one pooled `sqlite3` connection."""

    def __init__(self, pool: Any, dialect: Dialect, heavy: set[str]) -> None:
        self._pool = pool
        self._dialect = dialect
        self._heavy = heavy
        """The SQL of statements that cost SQLite more than `HEAVY_S` of CPU once: they run
        in a thread from then on."""
        self._handle: Handle | None = None

    async def acquire(self) -> None:
        assert self._handle is None, "Connection is already acquired"
        self._handle = self._pool.acquire()

    async def release(self) -> None:
        assert self._handle is not None, "Connection is not acquired"
        handle, self._handle = self._handle, None
        self._pool.release(handle)

    @property
    def raw_connection(self) -> Handle:
        """The `sqlite3` connection (`.raw`), and a way to run work on it in a thread (`.in_thread`)."""
        assert self._handle is not None, "Connection is not acquired"
        return self._handle

    async def _statement(self, sql: str, args: list[Any], fetch: int) -> tuple[Any, Any, Any]:
        handle = self._handle
        assert handle is not None, "Connection is not acquired"
        raw = handle.raw
        if sql not in self._heavy:
            started = time.thread_time()
            try:
                result = _run(raw, sql, args, fetch)
            except sqlite3.OperationalError as error:
                if not busy(error):
                    raise
            else:
                if time.thread_time() - started > HEAVY_S and len(self._heavy) < HEAVY_KEPT:
                    self._heavy.add(sql)
                return result
        return await handle.in_thread(lambda: _run(raw, sql, args, fetch))  # type: ignore[no-any-return]

    async def fetch_all(self, query: ClauseElement) -> list[Record]:
        entry, sql, args = prepare(query, self._dialect)
        description, rows, _ = await self._statement(sql, args, 2)
        return entry.reader.read(description, rows)

    async def fetch_one(self, query: ClauseElement) -> Record | None:
        entry, sql, args = prepare(query, self._dialect)
        description, row, _ = await self._statement(sql, args, 1)
        if row is None:
            return None
        return entry.reader.read(description, [row])[0]

    async def execute(self, query: ClauseElement) -> Any:
        entry, sql, args = prepare(query, self._dialect)
        return (await self._statement(sql, args, 0))[2]

    async def execute_many(self, queries: list[ClauseElement]) -> None:
        for query in queries:
            await self.execute(query)

    async def iterate(self, query: ClauseElement) -> AsyncGenerator[Any, None]:
        for record in await self.fetch_all(query):
            yield record

    async def run_sql(self, sql: str) -> None:
        await self._statement(sql, [], 0)

    def transaction(self) -> TransactionBackend:
        return InlineTransaction(self)


class InlineTransaction(TransactionBackend):
    """BEGIN, COMMIT, ROLLBACK and savepoints on the connection, in the loop."""

    def __init__(self, connection: InlineSQLiteConnection) -> None:
        self._connection = connection
        self._is_root = False
        self._savepoint_name = ""

    async def start(self, is_root: bool, extra_options: dict[Any, Any]) -> None:
        self._is_root = is_root
        if is_root:
            await self._connection.run_sql("BEGIN")
        else:
            self._savepoint_name = f"PPB_SAVEPOINT_{uuid.uuid4().hex}"
            await self._connection.run_sql(f"SAVEPOINT {self._savepoint_name}")

    async def commit(self) -> None:
        await self._connection.run_sql("COMMIT" if self._is_root else f"RELEASE SAVEPOINT {self._savepoint_name}")

    async def rollback(self) -> None:
        await self._connection.run_sql(
            "ROLLBACK" if self._is_root else f"ROLLBACK TO SAVEPOINT {self._savepoint_name}")
