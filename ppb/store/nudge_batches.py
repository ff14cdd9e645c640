"""A nudger pass's writes and reads for all its users at once: one statement each, whatever
the number of users (`nudges.py` holds the one-at-a-time forms)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa

from ppb.store import seen
from ppb.store.base import StoreBase, writes
from ppb.store.ranking_batches import _chunks
from ppb.store.schema import Timestamp, nudges


class NudgeBatches(StoreBase):
    async def seen_post_ids_many(self, user_ids: Sequence[int]) -> dict[int, set[int]]:
        """Per user, the posts nudged before or already sent into the chat as feed posts."""
        found: dict[int, set[int]] = defaultdict(set)
        for chunk in _chunks(user_ids):
            query = seen.pairs(seen.IN_CHAT, lambda table: table.c.user_id.in_(chunk))
            for record in await self.database.fetch_all(query):
                found[int(record[0])].add(int(record[1]))
        return found

    @writes
    async def claim_nudges(self, choices: Sequence[tuple[int, int]], now: datetime) -> dict[int, int]:
        """Record (user id, post id) nudges as pending before they are sent, in one statement;
        returns user id -> nudge id for those claimed (a post nudged before is not)."""
        if not choices:
            return {}
        statement = (
            self._insert(nudges)
            .values([{"user_id": u, "post_id": p, "status": "pending", "created_at": now} for u, p in choices])
            .on_conflict_do_nothing(index_elements=[nudges.c.user_id, nudges.c.post_id])
            .returning(nudges.c.id, nudges.c.user_id)
        )
        return {int(record[1]): int(record[0]) for record in await self.database.fetch_all(statement)}

    @writes
    async def mark_nudges_sent(self, sent: Sequence[tuple[int, int, datetime]]) -> None:
        """(nudge id, message id, sent at) of delivered nudges, in one statement."""
        if not sent:
            return
        typed = self.engine.typed
        message = sa.case(*[(nudges.c.id == nudge, typed(message, sa.BigInteger)) for nudge, message, _ in sent])
        at = sa.case(*[(nudges.c.id == nudge, typed(when, Timestamp)) for nudge, _, when in sent])
        await self.database.execute(
            nudges.update()
            .where(nudges.c.id.in_([nudge for nudge, _, _ in sent]))
            .values(status="sent", message_id=message, sent_at=at)
        )

    @writes
    async def mark_nudges_undeliverable(self, nudge_ids: Sequence[int]) -> None:
        if nudge_ids:
            await self.database.execute(
                nudges.update().where(nudges.c.id.in_(list(nudge_ids))).values(status="undeliverable")
            )
