"""The send queue: outgoing messages (pushes, digests) queued, claimed before each send
(status `sending`), then sent or failed. Only the `outbox` actor claims."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa

from ppb.store.base import INSERT_CHUNK, Row, StoreBase, _rows, utcnow, writes
from ppb.store.schema import outbox, users

QUEUED, SENDING, SENT, FAILED = "queued", "sending", "sent", "failed"


def _decoded(rows: list[Row]) -> list[Row]:
    for row in rows:
        if isinstance(row.get("payload"), str | bytes):
            row["payload"] = orjson.loads(row["payload"])
    return rows


class OutboxQueries(StoreBase):
    @writes
    async def enqueue(self, messages: Sequence[dict[str, Any]]) -> int:
        """Queue messages ({user_id, chat_id, kind, payload}); returns how many."""
        now = utcnow()
        rows = [{**message, "status": QUEUED, "attempts": 0, "created_at": now} for message in messages]
        for start in range(0, len(rows), INSERT_CHUNK):
            await self.database.execute_many(outbox.insert(), rows[start : start + INSERT_CHUNK])
        return len(rows)

    @writes
    async def enqueue_once(self, message: dict[str, Any]) -> tuple[int, bool]:
        """Queue one message with a `ref` unless one with that ref is queued already; (its id,
        whether it was queued now)."""
        async with self.database.transaction():
            found = await self.find_queued(int(message["user_id"]), str(message["ref"]))
            if found is not None:
                return found, False
            return int(await self.database.fetch_val(outbox.insert().values(
                **message, status=QUEUED, attempts=0, created_at=utcnow()).returning(outbox.c.id))), True

    async def find_queued(self, user_id: int, ref: str) -> int | None:
        value = await self.database.fetch_val(
            sa.select(outbox.c.id).where(outbox.c.user_id == user_id, outbox.c.ref == ref).order_by(outbox.c.id))
        return int(value) if value is not None else None

    async def queued(self, limit: int) -> list[Row]:
        """The oldest queued messages, oldest first, with the person's language."""
        query = (
            sa.select(outbox, users.c.language)
            .join(users, users.c.id == outbox.c.user_id)
            .where(outbox.c.status == QUEUED)
            .order_by(outbox.c.id)
            .limit(limit)
        )
        return _decoded(_rows(await self.database.fetch_all(query)))

    async def in_doubt(self) -> list[Row]:
        """Messages claimed but not known to be sent: the owner stopped in the middle."""
        query = sa.select(outbox).where(outbox.c.status == SENDING).order_by(outbox.c.id)
        return _decoded(_rows(await self.database.fetch_all(query)))

    @writes
    async def claim(self, outbox_id: int) -> bool:
        """queued -> sending, before the send; False when it was not queued any more."""
        value = await self.database.fetch_val(
            outbox.update()
            .where(outbox.c.id == outbox_id, outbox.c.status == QUEUED)
            .values(status=SENDING, attempts=outbox.c.attempts + 1)
            .returning(outbox.c.id)
        )
        return value is not None

    @writes
    async def mark_sent(self, outbox_id: int, message_id: int, now: datetime) -> None:
        await self.database.execute(
            outbox.update().where(outbox.c.id == outbox_id).values(status=SENT, message_id=message_id, sent_at=now)
        )

    @writes
    async def mark_failed(self, outbox_id: int) -> None:
        await self.database.execute(outbox.update().where(outbox.c.id == outbox_id).values(status=FAILED))

    @writes
    async def release(self, outbox_id: int) -> None:
        """Back in the queue (not sent: flood control, or Telegram away)."""
        await self.database.execute(outbox.update().where(outbox.c.id == outbox_id).values(status=QUEUED))

    async def pushes_since(self, user_ids: Sequence[int], since: datetime) -> dict[int, int]:
        """Live pushes queued or sent to each user since `since` (what the caps count)."""
        if not user_ids:
            return {}
        query = (
            sa.select(outbox.c.user_id, sa.func.count())
            .where(outbox.c.user_id.in_(list(user_ids)), outbox.c.kind == "push",
                   outbox.c.created_at >= since, outbox.c.status != FAILED)
            .group_by(outbox.c.user_id)
        )
        return {int(record[0]): int(record[1]) for record in await self.database.fetch_all(query)}
