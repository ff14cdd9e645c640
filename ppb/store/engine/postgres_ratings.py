"""Group commit on PostgreSQL: the ratings that arrive while one statement is in flight go
together in the next, one multi-row statement (one round trip, one commit) for all of them.
Each caller is answered after that statement has committed: nothing is acknowledged early.

The statement runs on connections of its own that always use its generic plan: under the
default `plan_cache_mode` PostgreSQL planned it afresh on every call (a custom plan for the
arrays' sizes looks cheaper than the generic one), which was half the server's CPU per call.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg


Row = dict[str, Any]
MAX_BATCH = 500
IN_FLIGHT = 1
"""Statements in flight per process. One: the ratings that come while it commits (an fsync)
all go in the next, so the batches grow with the load. With three in flight the batches
stayed small (about 5 ratings at 16 clients), and PostgreSQL's CPU per rating was about
1.7 times as much for no more ratings per second (docs/performance.md)."""

RATE_MANY = """
WITH input AS (
    SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::timestamptz[]) AS t(telegram_id, post_id, kind, at)
),
valid AS (
    SELECT input.*, users.id AS user_id FROM input
    JOIN users ON users.telegram_id = input.telegram_id
    JOIN posts ON posts.id = input.post_id
),
locked AS (  -- rows locked in id order, so two batches never wait on each other in a cycle
    SELECT users.id FROM users WHERE users.id IN (SELECT user_id FROM valid)
    ORDER BY users.id FOR NO KEY UPDATE
),
touched AS (
    UPDATE users SET last_activity_at = latest.at
    FROM (SELECT user_id, max(at) AS at FROM valid WHERE user_id IN (SELECT id FROM locked) GROUP BY user_id) AS latest
    WHERE users.id = latest.user_id
    RETURNING users.id, users.status
),
rating AS (
    INSERT INTO interactions (user_id, post_id, interaction_type, created_at)
    SELECT valid.user_id, valid.post_id, valid.kind, valid.at FROM valid JOIN touched ON touched.id = valid.user_id
    ORDER BY valid.user_id, valid.post_id
    ON CONFLICT (user_id, post_id)
    DO UPDATE SET interaction_type = EXCLUDED.interaction_type, created_at = EXCLUDED.created_at
    RETURNING id, user_id, post_id
)
SELECT rating.id, rating.user_id, touched.status, valid.telegram_id, valid.post_id
FROM rating
JOIN touched ON touched.id = rating.user_id
JOIN valid ON valid.user_id = rating.user_id AND valid.post_id = rating.post_id
"""


async def keep_session(connection: Any) -> None:
    """What asyncpg's pool runs when a connection comes back, instead of its reset query
    (advisory unlocks, CLOSE ALL, UNLISTEN, RESET ALL: a round trip per request for state
    PPB never sets). An open transaction is still rolled back."""
    if connection.is_in_transaction():
        await connection.execute("ROLLBACK")


@dataclass(slots=True)
class _Pending:
    telegram_id: int
    post_id: int
    kind: str
    at: datetime
    future: asyncio.Future[Row | None] = field(repr=False)


class PostgresRatings:
    """`await rate(...)`: the rating's `id`, `user_id`, `user_status`, or None when the user
    or the post is unknown. Up to `IN_FLIGHT` statements at once per process; a (user, post)
    in a statement on its way waits for a later one (a statement may touch a row only once,
    and ratings of one post by one user must commit in the order they came)."""

    def __init__(self, database: Any) -> None:
        self._url = database.url
        self._pool: asyncpg.Pool | None = None
        self._pool_lock = asyncio.Lock()
        self._queue: list[_Pending] = []
        self._flushers: set[asyncio.Task[None]] = set()
        self._in_flight: set[tuple[int, int]] = set()

    async def rate(self, telegram_id: int, post_id: int, kind: str, at: datetime) -> Row | None:
        future: asyncio.Future[Row | None] = asyncio.get_running_loop().create_future()
        self._queue.append(_Pending(telegram_id, post_id, kind, at, future))
        self._flushers = {task for task in self._flushers if not task.done()}
        if len(self._flushers) < IN_FLIGHT:
            self._flushers.add(asyncio.ensure_future(self._flush_all()))
        return await future

    async def _flush_all(self) -> None:
        while self._queue:
            batch = self._take()
            if not batch:  # all waiting keys are on their way: their statements' flushers go on
                return
            keys = {(item.telegram_id, item.post_id) for item in batch}
            self._in_flight |= keys
            try:
                found = await self._write(batch)
            except BaseException as error:
                for item in batch:
                    if not item.future.done():
                        item.future.set_exception(error if isinstance(error, Exception) else RuntimeError("cancelled"))
                if not isinstance(error, Exception):
                    raise
                continue
            finally:
                self._in_flight -= keys
            for item in batch:
                if not item.future.done():
                    item.future.set_result(found.get((item.telegram_id, item.post_id)))

    def _take(self) -> list[_Pending]:
        batch: list[_Pending] = []
        keys: set[tuple[int, int]] = set()
        rest: list[_Pending] = []
        for item in self._queue:
            key = (item.telegram_id, item.post_id)
            if key in keys or key in self._in_flight or len(batch) >= MAX_BATCH:
                rest.append(item)
            else:
                keys.add(key)
                batch.append(item)
        self._queue = rest
        return batch

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    async def _connections(self) -> asyncpg.Pool:
        """The pool of this statement's connections, made on first use (none opened yet)."""
        async with self._pool_lock:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(
                    **pool_address(self._url), min_size=0, max_size=IN_FLIGHT, reset=keep_session,
                    server_settings={"plan_cache_mode": "force_generic_plan"},
                )
            return self._pool

    async def _write(self, batch: list[_Pending]) -> dict[tuple[int, int], Row]:
        pool = self._pool or await self._connections()
        async with pool.acquire() as connection:
            records = await connection.fetch(
                RATE_MANY,
                [item.telegram_id for item in batch],
                [item.post_id for item in batch],
                [item.kind for item in batch],
                [item.at for item in batch],
            )
        return {
            (int(record[3]), int(record[4])): {"id": record[0], "user_id": record[1], "user_status": record[2]}
            for record in records
        }


def pool_address(url: Any) -> dict[str, Any]:
    """asyncpg's connection arguments for a `databases` URL, read as `databases` reads them."""
    address: dict[str, Any] = {
        "host": url.hostname, "port": url.port, "user": url.username,
        "password": url.password, "database": url.database,
    }
    ssl = url.options.get("ssl")
    if ssl is not None:
        address["ssl"] = {"true": True, "false": False}.get(ssl.lower(), ssl)
    return address
