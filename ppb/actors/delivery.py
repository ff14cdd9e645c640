"""Finding new posts to deliver, whichever way they arrived (posts/bulk, a scraper refresh,
an import): each pass asks the store for posts stored since the last pass and hands them to
`core.delivery.on_arrival`; digests are looked for every `digest_every` seconds.

Nothing is kept but a time and the ids handled lately: after a restart the passes look back
`LOOK_BACK` (a post already scored for a person is never scored for them again), so posts
stored while the owner was away are delivered too, unless it was away longer than that;
they are still in the feed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from ppb import metrics
from ppb.core.delivery import ArrivalReport, ArrivalScorer, Caps, DigestReport, digest_pass, on_arrival

log = logging.getLogger(__name__)

LOOK_BACK = timedelta(minutes=10)
"""How far back the first pass after a start looks, and how late a commit may be seen."""
FRESH = timedelta(days=1)
"""Only posts published within this long are delivered (an imported archive is not pushed)."""
BATCH = 1000
VECTOR_WAIT = timedelta(seconds=60)
"""A new post waits this long at most for its sentence vector before it is scored without
one (no embedder running, or one far behind)."""


class Deliverer:
    def __init__(self, store: Any, scorer: ArrivalScorer, caps: Caps, *, batch: int = BATCH,
                 arrive: Callable[..., Awaitable[ArrivalReport]] = on_arrival,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC), vector_model: str | None = None) -> None:
        self._store = store
        self._vector_model = vector_model
        self._waiting: dict[int, datetime] = {}  # post id -> when first found without its vector
        self._batch = batch
        self._arrive = arrive
        self._scorer = scorer
        self._caps = caps
        self._clock = clock
        self._since = clock() - LOOK_BACK
        self._handled: dict[int, datetime] = {}
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def arrivals(self) -> ArrivalReport:
        """One pass: every post stored since the last one, scored for its followers."""
        now = self._clock()
        window_start = min(self._since, now - timedelta(seconds=30))  # a late commit still counts
        total = ArrivalReport()
        after_id = 0
        while True:
            page = await self._store.arrived_since(window_start, now - FRESH, after_id, self._batch)
            chunk = await self._ready([i for i in page if i not in self._handled and i not in self._waiting], now)
            if chunk:
                await self._hand_over(chunk, now, total)
            if len(page) < self._batch:
                break
            after_id = page[-1]
        if self._waiting:  # found earlier without their vector: scored once it is there
            waited = await self._ready(sorted(self._waiting), now)
            if waited:
                await self._hand_over(waited, now, total)
        self._since = now
        cutoff = now - LOOK_BACK
        self._handled = {i: t for i, t in self._handled.items() if t >= cutoff}
        return total

    async def _hand_over(self, post_ids: list[int], now: datetime, total: ArrivalReport) -> None:
        """Score these posts for their followers, counted into `total` and the metrics."""
        report = await self._arrive(self._store, self._scorer, post_ids, self._caps, now)
        if report.pushed:
            metrics.record("ppb_outbox_messages_total", float(report.pushed), kind="push", outcome="queued")
        for key in ("posts", "followers", "scored", "pushed", "waiting", "hidden"):
            setattr(total, key, getattr(total, key) + getattr(report, key))
        total.pushed_to += report.pushed_to
        for post_id in post_ids:
            self._handled[post_id] = now

    async def _ready(self, post_ids: list[int], now: datetime) -> list[int]:
        """Those of `post_ids` ready to score: with their sentence vector stored, or waited
        for long enough; the others wait (`_waiting`)."""
        if self._vector_model is None or not post_ids:
            return post_ids
        embedded = await self._store.embedded_among(self._vector_model, post_ids)
        ready = []
        for post_id in post_ids:
            since = self._waiting.setdefault(post_id, now)
            if post_id in embedded or now - since >= VECTOR_WAIT:
                ready.append(post_id)
                del self._waiting[post_id]
        return ready

    async def digests(self) -> DigestReport:
        report = await digest_pass(self._store, self._caps, self._clock())
        if report.queued:
            metrics.record("ppb_outbox_messages_total", float(report.queued), kind="digest", outcome="queued")
        return report

    async def run(self, every_s: float, digest_every_s: float) -> None:
        loop = asyncio.get_running_loop()
        next_digest = loop.time()
        while True:
            try:
                report = await self.arrivals()
                if report.pushed or report.waiting:
                    log.info("arrivals: %s", report)
                if loop.time() >= next_digest:
                    next_digest = loop.time() + digest_every_s
                    digests = await self.digests()
                    if digests.queued:
                        log.info("digests: %s", digests)
            except Exception:  # the database or the Scorer away: the next pass tries again
                log.exception("delivery pass failed")
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), every_s)
            except TimeoutError:
                pass
