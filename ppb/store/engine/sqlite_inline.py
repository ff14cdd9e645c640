"""SQLite statements run in the event loop, each compiled once.

`databases` sends every statement to the connection's own thread (aiosqlite) and compiles
it with SQLAlchemy every time. A point query costs SQLite tens of microseconds, while the
compile costs a few hundred and the thread hop waits for the GIL, up to the interpreter's
switch interval (5 ms) when the loop is busy; a write queued behind the process's write
lock waited for every such hop of the one before it. Here a statement runs on the same
connection right in the loop, compiled once per shape (SQLAlchemy's statement cache, with
each call's values bound anew), and only when SQLite would have to wait (another process
holds the write lock: `SQLITE_BUSY`) does it go to the connection's thread and wait there,
with the usual busy timeout, so the loop never stalls on a lock. A statement that turns
out heavy (more than `HEAVY_S` of SQLite's CPU: a console report, a large scan) runs in the
thread from then on, so it does not hold up every other request of the process either.

Results and parameters are exactly those `databases` builds (its `Record`, its bind
processors); transactions run on the same connection, in the loop too.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from typing import Any

import aiosqlite
from databases.backends.common.records import Record, Row, create_column_maps
from databases.backends.sqlite import CompilationContext, SQLiteConnection, SQLitePool, SQLiteTransaction
from databases.interfaces import TransactionBackend
from sqlalchemy.engine.cursor import CursorResultMetaData
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.ddl import DDLElement
from sqlalchemy.util import LRUCache

from ppb.store.engine.prepared import Bound
from ppb.store.engine.sqlite_busy import busy, patiently

BUSY_TIMEOUT_MS = 30_000
"""How long a statement sent to the thread waits for another process's lock."""
CACHED_STATEMENTS = 1000
HEAVY_S = 0.002
"""A statement whose run cost more CPU than this (a console report, a big scan) keeps the
loop no longer: its later runs go to the connection's thread, where SQLite releases the GIL."""


class Compiled:
    """A statement's SQL, its parameters' order and processors, and what reads its rows."""

    __slots__ = ("compiled", "sql", "names", "processors", "result_columns", "column_maps", "context",
                 "metadata", "defaults", "expanding", "heavy")

    def __init__(self, compiled: Any, dialect: Dialect) -> None:
        self.compiled = compiled
        self.sql: str = compiled.string
        self.names: list[str] = list(compiled.positiontup or [])
        self.processors = compiled._bind_processors
        self.result_columns = compiled._result_columns
        self.column_maps = create_column_maps(self.result_columns)
        context = dialect.execution_ctx_cls()
        context.dialect = dialect
        context.result_column_struct = (
            compiled._result_columns, compiled._ordered_columns, compiled._textual_ordered_columns,
            compiled._ad_hoc_textual, compiled._loose_column_name_matching,
        )
        self.context = CompilationContext(context)
        self.metadata: CursorResultMetaData | None = None  # built from the first cursor
        self.expanding = bool(compiled.literal_execute_params or compiled.post_compile_params)
        self.defaults: dict[str, Any] | None = None  # a prepared statement's own literal values
        self.heavy = False
        """Once it has cost SQLite more than `HEAVY_S` of CPU: from then on it runs in the thread."""

    def arguments(self, params: dict[str, Any]) -> tuple[str, list[Any]]:
        """The SQL to run and its arguments, in order (IN lists expanded for these values, as
        SQLAlchemy's own execution expands them)."""
        if self.expanding:
            expanded = self.compiled._process_parameters_for_postcompile(params)
            processors = {**self.processors, **expanded.processors}
            values = expanded.parameters
            return expanded.statement, [processors[name](values[name]) if name in processors else values[name]
                                        for name in expanded.positiontup]
        processors = self.processors
        return self.sql, [processors[name](params[name]) if name in processors else params[name]
                          for name in self.names]

    def rows(self, description: Any, rows: list[tuple[Any, ...]], dialect: Dialect) -> list[Record]:
        if self.metadata is None:
            self.metadata = CursorResultMetaData(self.context, description)
        metadata = self.metadata
        return [Record(Row(metadata, metadata._processors, metadata._keymap, row), self.result_columns, dialect,
                       self.column_maps) for row in rows]


class StatementCache:
    """Compiled statements by SQLAlchemy's cache key, for one dialect."""

    def __init__(self, dialect: Dialect, size: int = CACHED_STATEMENTS) -> None:
        self.dialect = dialect
        self._sqlalchemy: LRUCache[Any, Any] = LRUCache(size)
        self._ours: dict[int, Compiled] = {}

    def prepare(self, query: ClauseElement | Bound) -> tuple[Compiled, str, list[Any]]:
        """The statement compiled (once per shape), its SQL and this call's arguments."""
        if isinstance(query, Bound):
            return self._bound(query)
        if isinstance(query, DDLElement):
            compiled = query.compile(dialect=self.dialect)
            return Compiled(compiled, self.dialect), compiled.string, []
        compiled, extracted, collected, _ = query._compile_w_cache(
            self.dialect, compiled_cache=self._sqlalchemy, column_keys=[])
        entry = self._ours.get(id(compiled))
        if entry is None or entry.compiled is not compiled:
            entry = Compiled(compiled, self.dialect)
            if len(self._ours) > 2 * CACHED_STATEMENTS:  # entries of statements the LRU dropped
                self._ours.clear()
            self._ours[id(compiled)] = entry
        params = compiled.construct_params(extracted_parameters=extracted, escape_names=False,
                                           _collected_params=collected)
        return (entry, *entry.arguments(params))

    def _bound(self, query: Bound) -> tuple[Compiled, str, list[Any]]:
        """A statement built once (`prepared.py`): compiled once, no cache key to compute."""
        entry = query.prepared.compiled.get("sqlite")  # every store's SQLite dialect is configured alike
        if entry is None:
            compiled = query.prepared.statement.compile(dialect=self.dialect)
            entry = Compiled(compiled, self.dialect)
            entry.defaults = compiled.construct_params(escape_names=False, _check=False)
            query.prepared.compiled["sqlite"] = entry
        assert entry.defaults is not None
        return (entry, *entry.arguments({**entry.defaults, **query.values}))


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


def _run_waiting(raw: sqlite3.Connection, sql: str, args: list[Any], fetch: int) -> tuple[Any, Any, Any]:
    """The same in the connection's thread, waiting for the lock (`sqlite_busy.py`) as long
    as SQLite is told to."""
    return patiently(raw, lambda: _run(raw, sql, args, fetch), BUSY_TIMEOUT_MS, 0)


class InlineSQLiteConnection(SQLiteConnection):
    def __init__(self, pool: SQLitePool, dialect: Dialect, cache: StatementCache) -> None:
        super().__init__(pool, dialect)
        self._cache = cache

    async def acquire(self) -> None:
        await super().acquire()
        assert self._connection is not None
        raw = self._connection._conn
        if getattr(raw, "waits_for_no_lock", False) is not True:  # once per connection, not per use
            raw.execute("PRAGMA busy_timeout=0")  # the loop never waits for a lock (`_run_waiting` puts 0 back)
            try:
                raw.waits_for_no_lock = True
            except AttributeError:  # a plain sqlite3 connection: set again next time
                pass

    async def _statement(self, sql: str, args: list[Any], fetch: int, entry: Compiled | None = None) -> tuple[Any, Any, Any]:
        connection: aiosqlite.Connection | None = self._connection
        assert connection is not None, "Connection is not acquired"
        if entry is None or not entry.heavy:
            started = time.thread_time()
            try:
                result = _run(connection._conn, sql, args, fetch)
            except sqlite3.OperationalError as error:
                if not busy(error):
                    raise
            else:
                if entry is not None and time.thread_time() - started > HEAVY_S:
                    entry.heavy = True
                return result
        return await connection._execute(_run_waiting, connection._conn, sql, args, fetch)  # type: ignore[no-any-return]

    async def fetch_all(self, query: ClauseElement) -> list[Record]:
        entry, sql, args = self._cache.prepare(query)
        description, rows, _ = await self._statement(sql, args, 2, entry)
        return entry.rows(description, rows, self._dialect)

    async def fetch_one(self, query: ClauseElement) -> Record | None:
        entry, sql, args = self._cache.prepare(query)
        description, row, _ = await self._statement(sql, args, 1, entry)
        if row is None:
            return None
        return entry.rows(description, [row], self._dialect)[0]

    async def execute(self, query: ClauseElement) -> Any:
        entry, sql, args = self._cache.prepare(query)
        return (await self._statement(sql, args, 0, entry))[2]

    async def run_sql(self, sql: str) -> None:
        await self._statement(sql, [], 0)

    def transaction(self) -> TransactionBackend:
        return InlineTransaction(self)


class InlineTransaction(SQLiteTransaction):
    """BEGIN, COMMIT, ROLLBACK and savepoints on the connection, in the loop."""

    _connection: InlineSQLiteConnection

    async def start(self, is_root: bool, extra_options: dict[Any, Any]) -> None:
        self._is_root = is_root
        if is_root:
            await self._connection.run_sql("BEGIN")
        else:
            self._savepoint_name = f"STARLETTE_SAVEPOINT_{uuid.uuid4().hex}"
            await self._connection.run_sql(f"SAVEPOINT {self._savepoint_name}")

    async def commit(self) -> None:
        await self._connection.run_sql("COMMIT" if self._is_root else f"RELEASE SAVEPOINT {self._savepoint_name}")

    async def rollback(self) -> None:
        await self._connection.run_sql(
            "ROLLBACK" if self._is_root else f"ROLLBACK TO SAVEPOINT {self._savepoint_name}")
