"""Retention as plain Python: one pass churns the long-silent users and nudges the quiet
ones with their best unseen post. The Ray actor `nudger` (remote.py) runs a pass every
NUDGE_CHECK_INTERVAL seconds.

Nothing is scheduled in memory: each pass asks the store who is due, so a restarted
nudger picks up where the last one stopped. A nudge is claimed in the store (pending)
before it is sent and marked sent after; a pending nudge found by the next pass is
looked up in the chat's registry first, so it is neither lost nor sent twice. A pass ranks
all its due users in one batch and claims their nudges in one statement; nudges then go
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
                await self._resume(pending, report)
            except Exception:  # still pending: the next pass tries again
                log.exception("resuming nudge %s failed", pending["id"])
                report.failed += 1
        due = await self._store.due_for_nudge(
            now, self._settings.quiet_after, self._settings.daily_cap, self._settings.batch
        )
        await self._nudge_all(due, now, report)
        return report

    async def _churn(self, now: datetime, report: PassReport) -> None:
        silent = await self._store.due_for_churn(now, self._settings.churn_after, self._settings.batch)
        if not silent:
            return
        results = await self._users.apply_many([EventRequest(t, UserEvent.CHURN) for t in silent])
        report.churned = sum(1 for result in results if result.error is None)

    async def _nudge_all(self, due: list[Row], now: datetime, report: PassReport) -> None:
        """Rank every due user in one batch, claim all their nudges in one statement, send
        them one at a time, and record the outcomes in one statement each.

        Claimed nudges stay pending until the outcomes are written: a nudger that dies
        mid-way leaves them to the next pass, which looks each up in the chat before
        sending (so at most the send in flight is in doubt, as before)."""
        if not due:
            return
        posts = await nudges.choose_many(self._store, self._ranker, [int(user["id"]) for user in due])
        chosen: dict[int, tuple[Row, Row]] = {}
        for user, post in zip(due, posts, strict=True):
            if isinstance(post, BaseException):
                log.error("ranking for user %s failed: %r", user.get("telegram_id"), post)
                report.failed += 1
                continue
            if post is None:
                report.nothing_to_send += 1
            else:
                chosen[int(user["id"])] = (user, post)
        claimed = await self._store.claim_nudges([(uid, post["id"]) for uid, (_, post) in chosen.items()], now)
        sent: list[tuple[int, int, datetime]] = []
        undeliverable: list[int] = []
        try:
            for user_id, nudge_id in claimed.items():  # one at a time (Telegram's pace anyway)
                user, post = chosen[user_id]
                try:
                    message_id = await self._sender.send_nudge(user["telegram_id"], user.get("language"), post)
                except Undeliverable:  # not picked again until the user is back (and quiet again)
                    undeliverable.append(nudge_id)
                    report.failed += 1
                    continue
                except Exception:  # one user's failure must not stop the pass; still pending
                    log.exception("nudging user %s failed", user.get("telegram_id"))
                    report.failed += 1
                    continue
                sent.append((nudge_id, message_id, self._clock()))
                report.nudged += 1
        finally:
            await self._store.mark_nudges_sent(sent)
            await self._store.mark_nudges_undeliverable(undeliverable)

    async def _resume(self, nudge: Row, report: PassReport) -> None:
        """Finish a nudge a stopped pass claimed: found sent already, or sent now (dropped
        when its post is gone)."""
        telegram_id, post_id = nudge["telegram_id"], nudge["post_id"]
        try:
            message_id = await self._sender.find_nudge(telegram_id, post_id)
            if message_id is None:
                found = await self._store.feed_posts([post_id])
                if not found:
                    await self._store.drop_nudge(nudge["id"])  # the post is gone
                    return
                message_id = await self._sender.send_nudge(telegram_id, nudge.get("language"), found[0])
            await self._store.mark_nudge_sent(nudge["id"], message_id, self._clock())
        except Undeliverable:  # not picked again until the user is back (and quiet again)
            await self._store.mark_nudge_undeliverable(nudge["id"])
            report.failed += 1
            return
        report.resumed += 1
