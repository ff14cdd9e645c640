"""`SQLiteEngine`: the embedded default. Statements run in the event loop on pooled
connections (`sqlite_pool.py`, `sqlite_inline.py`), one writer at a time per process (the
`@writes` lock), and the rating through the group-committing writer (`sqlite_writer.py`)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from ppb.store.engine.activity import ActivityStamps
from ppb.store.engine.contract import Column, Engine, JsonRows, Row
from ppb.store.engine.prepared import Bound, Prepared
from ppb.store.engine.sqlite_pool import PPBDatabase
from ppb.store.engine.sqlite_writer import SQLiteWriter

_dialect = sqlite.dialect()
_stored_time = sa.DateTime(timezone=True).dialect_impl(_dialect).bind_processor(_dialect)
"""The text SQLAlchemy stores for a time on SQLite: every write path here stores the same."""

_RATE = """
INSERT INTO interactions (user_id, post_id, interaction_type, created_at)
SELECT users.id, ?, ?, ? FROM users
WHERE users.telegram_id = ? AND EXISTS (SELECT 1 FROM posts WHERE posts.id = ?)
ON CONFLICT (user_id, post_id)
DO UPDATE SET interaction_type = excluded.interaction_type, created_at = excluded.created_at
RETURNING id, user_id{status}
"""
RATE = _RATE.format(status="")
TOUCH = "UPDATE users SET last_activity_at = ? WHERE id = ? RETURNING status"
"""The rating, then the stamp of the rater's activity (once a minute, `activity.py`) and the
status it leaves."""
RATE_AND_STATUS = _RATE.format(status=", (SELECT status FROM users WHERE users.id = interactions.user_id)")
"""The rating and the rater's status in one statement, when their activity was stamped
lately: most ratings."""


def stored_time(value: datetime) -> str:
    """A time as SQLite keeps it (SQLAlchemy's text for a `DateTime(timezone=True)`)."""
    assert _stored_time is not None
    return str(_stored_time(value))


class SQLiteEngine(Engine):
    name = "sqlite"
    compiles_once = True

    def __init__(self, async_url: str) -> None:
        super().__init__(PPBDatabase(async_url))
        self.write_lock = asyncio.Lock()
        self._writer: SQLiteWriter | None = None
        self.activity = ActivityStamps()
        """When this process's ratings last stamped each person's activity (`activity.py`)."""

    async def disconnect(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()
        await super().disconnect()

    def insert(self, table: sa.Table) -> Any:
        return sqlite.insert(table)

    def bound(self, prepared: Prepared, values: dict[str, Any]) -> Any:
        return Bound(prepared, values)  # compiled once and bound straight in (`sqlite_inline.py`)

    def typed(self, value: Any, kind: Any) -> Any:
        return sa.literal(value, kind)  # SQLite's CAST would turn a time into a number

    def json_rows(self, parameter: str, columns: Sequence[Column]) -> JsonRows:
        reads = {column.name: f"v.value {'->' if column.kind == 'json' else '->>'} '{column.name}'"
                 for column in columns}
        return JsonRows(f"json_each(:{parameter}) AS v", reads)

    def json_time(self, value: datetime) -> str:
        return stored_time(value)

    def time_value(self, value: datetime) -> Any:
        """A time as a parameter of a statement written in SQL."""
        return stored_time(value)

    def time_parameter(self, parameter: str) -> str:
        return f":{parameter}"

    def day(self, column: Any) -> Any:
        return sa.func.date(column)

    def week(self, column: Any) -> Any:
        return sa.func.date(column, "weekday 0", "-6 days")

    def seconds_between(self, later: Any, earlier: Any) -> Any:
        return (sa.func.julianday(later) - sa.func.julianday(earlier)) * 86400.0

    def day_after(self, column: Any) -> Any:
        return sa.func.strftime("%Y-%m-%d %H:%M:%f", column, "+1 day")

    async def insert_many(self, table: str, columns: Sequence[Column], rows: Sequence[Sequence[Any]], *,
                          conflict: str, returning: Sequence[str] = ()) -> tuple[int, list[tuple[Any, ...]] | None]:
        """One prepared statement run for every row (`executemany`); the rows made are counted,
        not named."""
        times = [index for index, column in enumerate(columns) if column.kind == "timestamptz"]
        if times:
            texts: dict[datetime, str] = {}  # a batch's `created_at` is one time: written once

            def text(value: datetime) -> str:
                found = texts.get(value)
                if found is None:
                    found = texts[value] = stored_time(value)
                return found

            written = []
            for row in rows:
                values = list(row)
                for index in times:
                    values[index] = text(values[index])
                written.append(values)
            rows = written
        names = ", ".join(column.name for column in columns)
        sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(columns))}) {conflict}"

        def work() -> int:
            before = raw.total_changes
            raw.executemany(sql, rows)
            return int(raw.total_changes - before)

        async with self.session() as connection, connection.transaction():
            handle = connection.raw_connection  # `sqlite_inline.Handle`: a batch runs in a thread
            raw = handle.raw
            return await handle.in_thread(work), None

    async def rate(self, telegram_id: int, post_id: int, kind: str, at: datetime) -> Row | None:
        stamp = stored_time(at)
        stamps = self.activity
        now = stamps.now()
        touch = stamps.due(telegram_id, now)

        def work(connection: sqlite3.Connection) -> Row | None:
            found = connection.execute(RATE if touch else RATE_AND_STATUS,
                                       (post_id, kind, stamp, telegram_id, post_id)).fetchone()
            if found is None:
                return None
            status = connection.execute(TOUCH, (stamp, found[1])).fetchone()[0] if touch else found[2]
            return {"id": found[0], "user_id": found[1], "user_status": status}

        row: Row | None = await self._rating_writer().run(work)
        if touch and row is not None:  # committed: the next minute's ratings need not stamp
            stamps.stamped(telegram_id, now)
        return row

    def activity_every(self, seconds: float) -> None:
        self.activity.every = seconds

    def _rating_writer(self) -> SQLiteWriter:
        if self._writer is None:
            path = self.database.url.database
            if not path or path == ":memory:":
                raise ValueError("DATABASE_URL: SQLite needs a file (an in-memory database is one per connection)")
            self._writer = SQLiteWriter(str(path))
        return self._writer
