"""Retention: who is due a nudge or churn, and each nudge's claim-then-send life."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from ppb.store.base import Row, StoreBase, _rows, writes
from ppb.store.schema import nudges, users


class NudgeQueries(StoreBase):
    async def due_for_nudge(
        self, now: datetime, quiet_after: float, daily_cap: int, limit: int
    ) -> list[Row]:
        """Trained or active users quiet for `quiet_after` seconds, not nudged since they went
        quiet and under the daily cap, quietest first: one query, whatever the user count."""
        nudged_since_quiet = sa.exists().where(
            nudges.c.user_id == users.c.id, nudges.c.created_at >= users.c.last_activity_at
        )
        today = (
            sa.select(sa.func.count())
            .where(nudges.c.user_id == users.c.id, nudges.c.created_at >= now - timedelta(days=1))
            .scalar_subquery()
        )
        query = (
            sa.select(users.c.id, users.c.telegram_id, users.c.language)
            .where(
                users.c.status.in_(["trained", "active"]),
                users.c.last_activity_at < now - timedelta(seconds=quiet_after),
                ~nudged_since_quiet,
                today < daily_cap,
            )
            .order_by(users.c.last_activity_at, users.c.id)
            .limit(limit)
        )
        return _rows(await self.database.fetch_all(query))

    async def due_for_churn(self, now: datetime, churn_after: float, limit: int) -> list[int]:
        """Telegram ids of active users quiet for `churn_after` seconds."""
        query = (
            sa.select(users.c.telegram_id)
            .where(
                users.c.status == "active",
                users.c.last_activity_at < now - timedelta(seconds=churn_after),
            )
            .order_by(users.c.last_activity_at, users.c.id)
            .limit(limit)
        )
        return [int(record[0]) for record in await self.database.fetch_all(query)]

    @writes
    async def mark_nudge_undeliverable(self, nudge_id: int) -> None:
        """The chat refused it (the user blocked the bot): kept, so this quiet spell is over."""
        await self.database.execute(
            nudges.update().where(nudges.c.id == nudge_id).values(status="undeliverable")
        )

    @writes
    async def mark_nudge_sent(self, nudge_id: int, message_id: int, now: datetime) -> None:
        await self.database.execute(
            nudges.update()
            .where(nudges.c.id == nudge_id)
            .values(status="sent", message_id=message_id, sent_at=now)
        )

    @writes
    async def drop_nudge(self, nudge_id: int) -> None:
        """Forget a claimed nudge whose post is gone (another post can be nudged instead)."""
        await self.database.execute(nudges.delete().where(nudges.c.id == nudge_id))

    async def pending_nudges(self) -> list[Row]:
        """Nudges claimed but not known to be sent: a pass that stopped half-way."""
        query = (
            sa.select(
                nudges.c.id,
                nudges.c.user_id,
                nudges.c.post_id,
                users.c.telegram_id,
                users.c.language,
            )
            .join(users, users.c.id == nudges.c.user_id)
            .where(nudges.c.status == "pending")
            .order_by(nudges.c.id)
        )
        return _rows(await self.database.fetch_all(query))
