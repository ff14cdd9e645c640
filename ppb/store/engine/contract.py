"""The engine contract: what the queries by resource ask of the database beneath them.

The queries (`ppb/store/*.py`) are written once, in SQLAlchemy or in SQL over this contract;
what differs between SQLite and PostgreSQL (the INSERT with ON CONFLICT, how a time or a
typed parameter is written, a date's arithmetic, batch writes, group commit, statements
prepared once) is each engine's, once: `SQLiteEngine` (`sqlite.py`), `PostgresEngine`
(`postgres.py`).
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from databases import Database

from ppb.store.engine.prepared import Prepared

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Column:
    """A column of rows sent as one parameter (`Engine.json_rows`): its name and SQL type
    (`bigint`, `text`, `boolean`, `timestamptz`, `float8`, `json`)."""

    name: str
    kind: str


@dataclass(frozen=True, slots=True)
class JsonRows:
    """Rows sent as one JSON parameter, as SQL: `source` goes after FROM, `value[name]` reads
    a column of the current row, typed."""

    source: str
    value: dict[str, str]


class Engine(ABC):
    """One per store: the database (`databases`), its dialect's statements, its batch writes."""

    name: ClassVar[str]
    """The dialect's name, as SQLAlchemy says it (for migrations and diagnostics only)."""
    compiles_once: ClassVar[bool]
    """Whether a statement built once (`prepared.py`) is compiled once too, so its size costs
    nothing a call (SQLite); else it is compiled on every call, and a small statement that
    leaves more to the server is the cheaper one (PostgreSQL)."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.write_lock: asyncio.Lock | None = None
        """Held by `@writes` methods when the database takes one writer at a time."""
        self._prepared: dict[Callable[[Engine], Prepared], Prepared] = {}

    async def connect(self) -> None:
        await self.database.connect()

    async def disconnect(self) -> None:
        await self.database.disconnect()

    def session(self) -> Any:
        """A context that makes the current task's queries share one connection."""
        return self.database.connection()

    async def ping(self) -> None:
        await self.database.fetch_val("SELECT 1")

    def prepared(self, build: Callable[[Engine], Prepared]) -> Prepared:
        """The statement `build(engine)` makes (an INSERT with this dialect's ON CONFLICT, say),
        built once per engine and kept."""
        statement = self._prepared.get(build)
        if statement is None:
            statement = self._prepared[build] = build(self)
        return statement

    # statements --------------------------------------------------------------------

    @abstractmethod
    def insert(self, table: sa.Table) -> Any:
        """An INSERT that offers `on_conflict_do_nothing` / `on_conflict_do_update`."""

    @abstractmethod
    def bound(self, prepared: Prepared, values: dict[str, Any]) -> Any:
        """A statement built once (`prepared.py`) with this call's values, ready to run."""

    @abstractmethod
    def typed(self, value: Any, kind: Any) -> Any:
        """A parameter of SQL type `kind` where the server cannot tell its type (in a CASE)."""

    @abstractmethod
    def json_rows(self, parameter: str, columns: Sequence[Column]) -> JsonRows:
        """Rows sent as one JSON parameter named `parameter` (a statement with a parameter per
        value takes longer to compile than to run): the FROM source and each column, typed."""

    @abstractmethod
    def json_time(self, value: datetime) -> str:
        """A time inside a JSON parameter, as this database reads times."""

    @abstractmethod
    def time_value(self, value: datetime) -> Any:
        """A time as a parameter of a statement written in SQL (`sa.text`)."""

    @abstractmethod
    def time_parameter(self, parameter: str) -> str:
        """SQL reading the time parameter `parameter` (`:now`) that `json_time` wrote."""

    # expressions for reports ---------------------------------------------------------

    @abstractmethod
    def day(self, column: Any) -> Any:
        """The UTC day of a stored time."""

    @abstractmethod
    def week(self, column: Any) -> Any:
        """The Monday that starts the UTC week of a stored time."""

    @abstractmethod
    def seconds_between(self, later: Any, earlier: Any) -> Any:
        """Seconds from one stored time to another."""

    @abstractmethod
    def day_after(self, column: Any) -> Any:
        """A stored time plus one day, comparable with stored times."""

    # batch writes, each in one statement or one prepared statement ------------------------

    @abstractmethod
    async def insert_many(self, table: str, columns: Sequence[Column], rows: Sequence[Sequence[Any]], *,
                          conflict: str, returning: Sequence[str] = ()) -> tuple[int, list[tuple[Any, ...]] | None]:
        """Insert these rows (values in `columns`' order) in one transaction, `conflict` the
        ON CONFLICT clause: how many rows were made, and their `returning` columns where the
        server says which (PostgreSQL; None on SQLite, whose executemany cannot)."""

    async def execute_unflushed(self, statement: Any) -> None:
        """A write whose loss in a crash costs nothing (statistics), committed without waiting
        for the disk where the server allows; elsewhere as any write."""
        await self.database.execute(statement)

    # the rating, the hottest write ------------------------------------------------------

    def activity_every(self, seconds: float) -> None:
        """A person's ratings within `seconds` may stamp their activity once (SQLite, where
        each stamp rewrites an index entry); PostgreSQL stamps once per statement already."""

    @abstractmethod
    async def rate(self, telegram_id: int, post_id: int, kind: str, at: datetime) -> Row | None:
        """Store a rating (replacing the person's earlier one of the post) and stamp the person's
        activity (once per `activity_every` seconds at most), committed before it returns, in one trip with whatever else is being written:
        the rating's `id`, `user_id` and the person's `user_status`, or None when the person or
        the post is unknown (nothing is written then)."""
