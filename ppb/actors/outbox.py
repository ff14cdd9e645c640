"""The send queue as plain Python: the `outbox` actor (outbox_actor.py) runs one.

Every outgoing push and digest is a row of the `outbox` table. The owner sends them oldest
first, about `rate` messages a second overall and one a second per chat (Telegram's
limits), and waits out a 429's `retry_after` for the whole queue. Each message is claimed
(`sending`) in the store before it is sent and marked `sent` after; the sender tags it in
the chat's registry (`out:<id>`) as soon as Telegram answers. An owner that stopped finds
its claimed messages on start: those in the registry were sent, the others go back to the
queue. So a restart loses nothing, and repeats nothing but a message Telegram accepted in
the instant before the owner died (the same window nudges have).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from ppb import metrics
from ppb.core.ports import RetryLater, Undeliverable

log = logging.getLogger(__name__)

Row = dict[str, Any]
BATCH = 500
MAX_ATTEMPTS = 5
"""Sends of one message that failed for another reason than flood control; then it is dropped."""


class Sender(Protocol):
    async def send(self, message: Row) -> int:
        """Send one outbox message (tagging it in the chat's registry); its Telegram id."""
        ...

    async def find(self, chat_id: int, outbox_id: int) -> int | None:
        """The Telegram id of this outbox message if it was delivered."""
        ...


@dataclass(frozen=True, slots=True)
class Pace:
    rate: float = 30.0  # messages a second, overall
    per_chat_s: float = 1.0  # seconds between two messages to one chat
    concurrency: int = 8  # sends in flight at once
    idle_s: float = 0.5  # how often an empty queue is looked at (a wake-up comes sooner)


@dataclass(slots=True)
class Counters:
    sent: int = 0
    failed: int = 0
    retried: int = 0
    recovered: int = 0
    flood_waits: int = 0


class Outbox:
    def __init__(self, store: Any, sender: Sender, pace: Pace = Pace(),
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._store = store
        self._sender = sender
        self._pace = pace
        self._clock = clock
        self._wake = asyncio.Event()
        self._next_slot = 0.0
        self._paused_until = 0.0
        self._chat_free: dict[int, float] = {}
        self._busy: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(pace.concurrency)
        self._closing = False
        self.counters = Counters()

    def wake(self) -> None:
        """New messages are queued: look now instead of at the next idle tick."""
        self._wake.set()

    @property
    def paused_for(self) -> float:
        return max(0.0, self._paused_until - self._clock())

    @property
    def in_flight(self) -> int:
        return len(self._busy)

    async def recover(self) -> None:
        """Settle what a stopped owner left claimed: sent (in the registry), or queued again."""
        for message in await self._store.in_doubt():
            found = await self._sender.find(message["chat_id"], message["id"])
            if found is not None:
                await self._store.mark_sent(message["id"], found, datetime.now(UTC))
            else:
                await self._store.release(message["id"])
            self.counters.recovered += 1

    async def run(self) -> None:
        """Recover, then send until `close`."""
        await self.recover()
        while not self._closing:
            try:
                started = await self.step()
            except Exception:  # the database away: try again shortly
                log.exception("outbox step failed")
                started = 0
            if not started:
                await self._idle()

    async def drain(self, deadline_s: float = 60.0) -> None:
        """Recover, then send until the queue is empty (tests, benchmarks)."""
        await self.recover()
        end = self._clock() + deadline_s
        while self._clock() < end:
            if not await self.step() and not self._busy and not await self._store.queued(1):
                return
            await self._idle()
        raise TimeoutError("the outbox did not drain")

    async def step(self) -> int:
        """Start sending every queued message whose chat may receive one now; how many."""
        rows = await self._store.queued(BATCH)
        started = 0
        held: set[int] = set()  # chats whose older message waits: keep each chat's order
        for row in rows:
            if self._closing:
                break
            chat = int(row["chat_id"])
            if chat in held or chat in self._busy or self._chat_free.get(chat, 0.0) > self._clock():
                held.add(chat)
                continue
            await self._take_slot()
            if not await self._store.claim(row["id"]):
                self._slots.release()
                continue
            held.add(chat)
            self._busy.add(chat)
            self._chat_free[chat] = self._clock() + self._pace.per_chat_s
            task = asyncio.create_task(self._send(row))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            started += 1
        self._forget_idle_chats()
        return started

    def close(self) -> None:
        """End `run` after the message under way is claimed (never cut in the middle of a
        statement: a connection cancelled mid-query is not given back to its pool, and the
        store's disconnect then waits for it); `sent_all` then waits for the sends."""
        self._closing = True
        self._wake.set()

    async def sent_all(self) -> None:
        """Wait for every send under way to end."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _take_slot(self) -> None:
        """Wait for a free send slot, the overall rate, and the end of any flood wait."""
        await self._slots.acquire()
        while True:
            now = self._clock()
            wait = max(self._paused_until, self._next_slot) - now
            if wait <= 0:
                self._next_slot = max(now, self._next_slot) + 1.0 / self._pace.rate
                return
            await asyncio.sleep(wait)

    async def _send(self, row: Row) -> None:
        chat = int(row["chat_id"])
        kind = str(row.get("kind") or "push")
        try:
            message_id = await self._sender.send(row)
        except RetryLater as wait:
            self._paused_until = max(self._paused_until, self._clock() + wait.seconds)
            self.counters.flood_waits += 1
            metrics.record("ppb_outbox_flood_waits_total")
            metrics.record("ppb_outbox_paused_seconds_total", wait.seconds)
            await self._store.release(row["id"])
        except Undeliverable:
            self.counters.failed += 1
            metrics.record("ppb_outbox_messages_total", kind=kind, outcome="failed")
            await self._store.mark_failed(row["id"])
        except Exception:
            log.exception("sending outbox message %s failed", row["id"])
            if int(row.get("attempts") or 0) + 1 >= MAX_ATTEMPTS:
                self.counters.failed += 1
                metrics.record("ppb_outbox_messages_total", kind=kind, outcome="failed")
                await self._store.mark_failed(row["id"])
            else:
                self.counters.retried += 1
                metrics.record("ppb_outbox_messages_total", kind=kind, outcome="retried")
                await self._store.release(row["id"])
        else:
            await self._store.mark_sent(row["id"], message_id, datetime.now(UTC))
            self.counters.sent += 1
            metrics.record("ppb_outbox_messages_total", kind=kind, outcome="sent")
        finally:
            self._busy.discard(chat)
            self._slots.release()
            self._wake.set()

    async def _idle(self) -> None:
        """Until a wake-up, the next chat that may receive again, or the idle tick."""
        now = self._clock()
        waiting = [t for t in self._chat_free.values() if t > now]
        timeout = min([self._pace.idle_s, *(t - now for t in waiting)])
        timeout = max(timeout, self.paused_for, 0.005)
        self._wake.clear()
        try:
            await asyncio.wait_for(self._wake.wait(), timeout)
        except TimeoutError:
            pass

    def _forget_idle_chats(self) -> None:
        if len(self._chat_free) > 10_000:
            now = self._clock()
            self._chat_free = {c: t for c, t in self._chat_free.items() if t > now}
