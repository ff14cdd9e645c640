"""Retention as plain Python: one pass churns the long-silent users and nudges the quiet
ones with their best unseen post. The Ray actor `nudger` (remote.py) runs a pass every
NUDGE_CHECK_INTERVAL seconds.

Nothing is scheduled in memory: each pass asks the store who is due, so a restarted
nudger picks up where the last one stopped. A nudge is claimed in the store (pending)
before it is sent and marked sent after; a pending nudge found by the next pass is
looked up in the chat's registry first, so it is neither lost nor sent twice. Nudges go
out one at a time (Telegram allows about 30 messages a second anyway), so a nudger killed
in the middle of a send leaves at most that one in doubt: sent by Telegram but not yet
registered, it would be sent again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from ppb.actors.user_shard import EventRequest, EventResult
from ppb.core import nudges
from ppb.core.ports import NudgeSender, Ranker, Row, Undeliverable
from ppb.domain.status import UserEvent

__all__ = ["NudgeSender", "Nudger", "NudgerSettings", "PassReport", "Undeliverable"]

log = logging.getLogger(__name__)


class Transitions(Protocol):
    async def apply_many(self, requests: Sequence[EventRequest]) -> list[EventResult]: ...


@dataclass(frozen=True, slots=True)
class NudgerSettings:
    quiet_after: float
    churn_after: float
    daily_cap: int
    batch: int


@dataclass(slots=True)
class PassReport:
    churned: int = 0
    nudged: int = 0
    resumed: int = 0
    nothing_to_send: int = 0
    failed: int = 0


class Nudger:
    def __init__(
        self,
        store: Any,
        ranker: Ranker,
        users: Transitions,
        sender: NudgeSender,
        settings: NudgerSettings,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._ranker = ranker
        self._users = users
        self._sender = sender
        self._settings = settings
        self._clock = clock

    async def run_pass(self) -> PassReport:
        """Churn, finish what a stopped pass left pending, then nudge whoever is due."""
        report = PassReport()
        now = self._clock()
        await self._churn(now, report)
        for pending in await self._store.pending_nudges():
            try:
                await self._deliver(pending, pending["post_id"], None, report, resumed=True)
            except Exception:  # still pending: the next pass tries again
                log.exception("resuming nudge %s failed", pending["id"])
                report.failed += 1
        due = await self._store.due_for_nudge(
            now, self._settings.quiet_after, self._settings.daily_cap, self._settings.batch
        )
        for user in due:  # one at a time: a nudger that dies leaves at most one send in doubt
            await self._nudge(user, now, report)
        return report

    async def _churn(self, now: datetime, report: PassReport) -> None:
        silent = await self._store.due_for_churn(now, self._settings.churn_after, self._settings.batch)
        if not silent:
            return
        results = await self._users.apply_many([EventRequest(t, UserEvent.CHURN) for t in silent])
        report.churned = sum(1 for result in results if result.status_code == 200)

    async def _nudge(self, user: Row, now: datetime, report: PassReport) -> None:
        try:
            post = await nudges.choose(self._store, self._ranker, user["id"])
            if post is None:
                report.nothing_to_send += 1
                return
            nudge_id = await self._store.claim_nudge(user["id"], post["id"], now)
            if nudge_id is None:
                return  # another pass claimed this very post a moment ago
            await self._deliver({**user, "id": nudge_id}, post["id"], post, report, resumed=False)
        except Exception:  # one user's failure must not stop the pass
            log.exception("nudging user %s failed", user.get("telegram_id"))
            report.failed += 1

    async def _deliver(
        self, nudge: Row, post_id: int, post: Row | None, report: PassReport, *, resumed: bool
    ) -> None:
        telegram_id = nudge["telegram_id"]
        try:
            message_id = await self._sender.find_nudge(telegram_id, post_id) if resumed else None
            if message_id is None:
                if post is None:
                    found = await self._store.feed_posts([post_id])
                    if not found:
                        await self._store.drop_nudge(nudge["id"])  # the post is gone
                        return
                    post = found[0]
                message_id = await self._sender.send_nudge(telegram_id, nudge.get("language"), post)
            await self._store.mark_nudge_sent(nudge["id"], message_id, self._clock())
        except Undeliverable:  # not picked again until the user is back (and quiet again)
            await self._store.mark_nudge_undeliverable(nudge["id"])
            report.failed += 1
            return
        if resumed:
            report.resumed += 1
        else:
            report.nudged += 1
