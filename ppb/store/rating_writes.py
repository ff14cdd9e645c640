"""A rating in one trip to the database, as the hottest write of the product.

PostgreSQL: one statement (a data-modifying CTE checks the posts, stamps the users' activity,
upserts the ratings and hands back the raters' status) for all the ratings waiting at that
moment (`postgres_ratings.py`), on connections of its own, prepared once per connection by
asyncpg and planned once. SQLite: both statements queued to the writer thread (`sqlite_writer.py`) and
committed with whatever else is queued. Either way the caller hears back after the COMMIT.
The SQL is plain text written once: compiling SQLAlchemy statements was most of a rating's CPU.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from ppb.store.base import Row, StoreBase
from ppb.store.postgres_ratings import PostgresRatings
from ppb.store.sqlite_writer import SQLiteWriter

SQLITE_UPSERT = """
INSERT INTO interactions (user_id, post_id, interaction_type, created_at)
SELECT users.id, ?, ?, ? FROM users
WHERE users.telegram_id = ? AND EXISTS (SELECT 1 FROM posts WHERE posts.id = ?)
ON CONFLICT (user_id, post_id)
DO UPDATE SET interaction_type = excluded.interaction_type, created_at = excluded.created_at
RETURNING id, user_id
"""

SQLITE_TOUCH = "UPDATE users SET last_activity_at = ? WHERE id = ? RETURNING status"

_dialect = sqlite.dialect()
_sqlite_time = sa.DateTime(timezone=True).dialect_impl(_dialect).bind_processor(_dialect)
"""The text SQLAlchemy stores for a time on SQLite, so both write paths store the same."""


class RatingWrites(StoreBase):
    """`_rate_once`: the rating's row (without `post_id`'s echo) or None when the user or the
    post is unknown (nothing is written then)."""

    _sqlite_writer: SQLiteWriter | None = None
    _postgres_ratings: PostgresRatings | None = None

    async def _rate_once(self, telegram_id: int, post_id: int, kind: str, now: datetime) -> Row | None:
        if self.dialect == "postgresql":
            return await self._rate_postgres(telegram_id, post_id, kind, now)
        writer = self._writer()
        if writer is None:
            return None  # an in-memory database: the caller takes the general path
        stamp = _sqlite_time(now)

        def work(connection: sqlite3.Connection) -> Row | None:
            found = connection.execute(SQLITE_UPSERT, (post_id, kind, stamp, telegram_id, post_id)).fetchone()
            if found is None:
                return None
            status = connection.execute(SQLITE_TOUCH, (stamp, found[1])).fetchone()[0]
            return {"id": found[0], "user_id": found[1], "user_status": status}

        return await writer.run(work)

    @property
    def rates_in_one_trip(self) -> bool:
        return self.dialect == "postgresql" or self._writer() is not None

    async def _rate_postgres(self, telegram_id: int, post_id: int, kind: str, now: datetime) -> Row | None:
        if self._postgres_ratings is None:
            self._postgres_ratings = PostgresRatings(self.database)
        return await self._postgres_ratings.rate(telegram_id, post_id, kind, now)

    def _writer(self) -> SQLiteWriter | None:
        if self._sqlite_writer is None:
            path = self._sqlite_path()
            if path is None:
                return None
            self._sqlite_writer = SQLiteWriter(path)
        return self._sqlite_writer

    def _sqlite_path(self) -> str | None:
        url = self.database.url
        path = url.database
        if not path or path == ":memory:" or url.options:
            return None
        return str(path)

    async def disconnect(self) -> None:
        writer, self._sqlite_writer = self._sqlite_writer, None
        if writer is not None:
            writer.close()
        ratings, self._postgres_ratings = self._postgres_ratings, None
        if ratings is not None:
            await ratings.close()
        await super().disconnect()
