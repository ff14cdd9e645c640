"""`PostgresEngine`: operators' database. A pool that opens no connection before the first
query (a down server is a 503, not a crash), batch writes as one statement over arrays, and
ratings group-committed on connections of their own (`postgres_ratings.py`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from databases import Database
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.visitors import cloned_traverse

from ppb.store.engine.contract import Column, Engine, JsonRows, Row
from ppb.store.engine.postgres_ratings import PostgresRatings, keep_session
from ppb.store.engine.prepared import Prepared


NO_FLUSH_WAIT = sa.text("SET LOCAL synchronous_commit TO OFF")


class PostgresEngine(Engine):
    name = "postgresql"
    compiles_once = False

    def __init__(self, async_url: str) -> None:
        super().__init__(Database(async_url, min_size=0, max_size=10, reset=keep_session))
        self._ratings: PostgresRatings | None = None

    async def disconnect(self) -> None:
        ratings, self._ratings = self._ratings, None
        if ratings is not None:
            await ratings.close()
        await super().disconnect()

    def insert(self, table: sa.Table) -> Any:
        return postgresql.insert(table)

    def bound(self, prepared: Prepared, values: dict[str, Any]) -> Any:
        """A copy with the values in its parameters, as `params()` makes for a SELECT, for
        INSERT and UPDATE too."""

        def fill(parameter: Any) -> None:
            if parameter.key in values:
                parameter.value = values[parameter.key]
                parameter.required = False

        return cloned_traverse(prepared.statement, {"maintain_key": True, "detect_subquery_cols": True},
                               {"bindparam": fill})

    def typed(self, value: Any, kind: Any) -> Any:
        return sa.cast(sa.literal(value, kind), kind)  # a CASE's parameters are text unless cast

    def json_rows(self, parameter: str, columns: Sequence[Column]) -> JsonRows:
        shape = ", ".join(f"{column.name} {column.kind}" for column in columns)
        return JsonRows(f"jsonb_to_recordset(CAST(:{parameter} AS jsonb)) AS v({shape})",
                        {column.name: f"v.{column.name}" for column in columns})

    def json_time(self, value: datetime) -> str:
        return value.isoformat()

    def time_value(self, value: datetime) -> Any:
        return value

    def time_parameter(self, parameter: str) -> str:
        return f"CAST(:{parameter} AS timestamptz)"

    def day(self, column: Any) -> Any:
        return sa.func.date(sa.func.timezone("UTC", column))

    def week(self, column: Any) -> Any:
        return sa.cast(sa.func.date_trunc("week", sa.func.timezone("UTC", column)), sa.Date)

    def seconds_between(self, later: Any, earlier: Any) -> Any:
        return sa.func.extract("epoch", later - earlier)

    def day_after(self, column: Any) -> Any:
        return column + timedelta(days=1)

    async def insert_many(self, table: str, columns: Sequence[Column], rows: Sequence[Sequence[Any]], *,
                          conflict: str, returning: Sequence[str] = ()) -> tuple[int, list[tuple[Any, ...]] | None]:
        """One statement over one array per column (`unnest`)."""
        names = ", ".join(column.name for column in columns)
        arrays = ", ".join(f"${index}::{column.kind}[]" for index, column in enumerate(columns, start=1))
        sql = f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays}) {conflict}"
        if returning:
            sql += f" RETURNING {', '.join(returning)}"
        values = [[row[index] for row in rows] for index in range(len(columns))]
        async with self.session() as connection, connection.transaction():
            raw = connection.raw_connection
            if not returning:
                status = await raw.execute(sql, *values)  # "INSERT 0 <rows made>"
                return int(status.rsplit(" ", 1)[-1]), None
            records = await raw.fetch(sql, *values)
        return len(records), [tuple(record) for record in records]

    async def execute_unflushed(self, statement: Any) -> None:
        """Committed without waiting for the WAL to reach the disk (an fsync, 3 to 4 ms, most of
        a small insert's cost): a crash can lose the last fraction of a second of these rows."""
        async with self.database.transaction():
            await self.database.execute(NO_FLUSH_WAIT)
            await self.database.execute(statement)

    async def rate(self, telegram_id: int, post_id: int, kind: str, at: datetime) -> Row | None:
        if self._ratings is None:
            self._ratings = PostgresRatings(self.database)
        return await self._ratings.rate(telegram_id, post_id, kind, at)
