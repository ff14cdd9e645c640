"""A shard of per-user state machines: plain Python, wrapped as a Ray actor in `remote.py`.

Each user is a virtual actor inside one shard: activated from the store on first use,
its transitions serialized by a per-user lock, written through to the store before the
caller hears back, and evicted after a quiet spell. Nothing lives only here, so a shard
that restarts rebuilds every user from the store on demand.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ppb import metrics
from ppb.actors.activation import evict_quiet
from ppb.domain.errors import DomainError
from ppb.domain.status import UserEvent

Row = dict[str, Any]


class UserStore(Protocol):
    """The part of the store a user shard needs."""

    async def get_user(self, telegram_id: int) -> Row: ...

    async def apply_event(
        self, telegram_id: int, event: UserEvent, details: dict[str, Any] | None = None
    ) -> Row: ...

    async def apply_events(
        self, events: Sequence[tuple[int, UserEvent, dict[str, Any] | None]]
    ) -> list[Row | DomainError]: ...


@dataclass(slots=True)
class ActiveUser:
    used_at: float
    row: Row | None = None
    """None until loaded from the store."""
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass(frozen=True, slots=True)
class EventRequest:
    telegram_id: int
    event: UserEvent
    details: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class EventResult:
    """One outcome of a batch: the user after the event, or the error a person would see."""

    user: Row | None = None
    error: DomainError | None = None


class UserShard:
    def __init__(
        self, store: UserStore, idle_after: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._store = store
        self._idle_after = idle_after
        self._clock = clock
        self._users: dict[int, ActiveUser] = {}

    async def apply(
        self, telegram_id: int, event: UserEvent, details: dict[str, Any] | None = None
    ) -> Row:
        """Move one user through the state machine; returns the user once it is stored.

        Safe to retry: an event whose target is the current status changes nothing.
        """
        user = self._entry(telegram_id)  # queue on the user's lock before anything else: arrival order
        async with user.lock:
            await self._load(telegram_id, user)
            row = await self._store.apply_event(telegram_id, UserEvent(event), details)
            user.row = row
            user.used_at = self._clock()
            return dict(row)

    async def apply_many(self, requests: Sequence[EventRequest]) -> list[EventResult]:
        """Many events at once, each user's in order; one result per request. Each round
        (every user's next event) is one multi-row write, under the users' locks, before
        anyone hears back."""
        results: list[EventResult | None] = [None] * len(requests)
        queues: dict[int, list[int]] = {}
        for index, request in enumerate(requests):
            queues.setdefault(request.telegram_id, []).append(index)
        while queues:
            round_ = {telegram_id: indexes.pop(0) for telegram_id, indexes in queues.items()}
            queues = {telegram_id: indexes for telegram_id, indexes in queues.items() if indexes}
            entries = {telegram_id: self._entry(telegram_id) for telegram_id in sorted(round_)}
            for entry in entries.values():  # in id order: two batches never wait on each other
                await entry.lock.acquire()
            try:
                events = [(t, UserEvent(requests[i].event), requests[i].details) for t, i in round_.items()]
                outcomes = await self._store.apply_events(events)
                for (telegram_id, index), outcome in zip(round_.items(), outcomes):
                    entry = entries[telegram_id]
                    entry.used_at = self._clock()
                    if isinstance(outcome, DomainError):
                        results[index] = EventResult(error=outcome)
                    else:
                        entry.row = outcome
                        results[index] = EventResult(user=dict(outcome))
            finally:
                for entry in entries.values():
                    entry.lock.release()
        return [result for result in results if result is not None]

    async def get(self, telegram_id: int) -> Row:
        """The user as this shard knows it (from the store when not active here)."""
        user = self._entry(telegram_id)
        async with user.lock:
            return dict(await self._load(telegram_id, user))

    async def get_many(self, telegram_ids: Sequence[int]) -> list[Row | None]:
        """Several users at once (None for an unknown one), activating them here."""
        found: list[Row | None] = []
        for telegram_id in telegram_ids:
            try:
                found.append(await self.get(telegram_id))
            except DomainError:
                found.append(None)
        return found

    def evict_idle(self) -> int:
        """Forget users quiet for `idle_after` seconds (their state is in the store)."""
        return evict_quiet(self._users, self._clock() - self._idle_after)

    def active_count(self) -> int:
        return len(self._users)

    def _entry(self, telegram_id: int) -> ActiveUser:
        user = self._users.get(telegram_id)
        if user is None:
            user = self._users[telegram_id] = ActiveUser(self._clock())
            metrics.record("ppb_shard_activations_total", kind="users")
        user.used_at = self._clock()
        return user

    async def _load(self, telegram_id: int, user: ActiveUser) -> Row:
        """Activate the user from the store, under its lock (NotFound for an unknown user;
        its empty entry goes with the next eviction)."""
        if user.row is None:
            user.row = await self._store.get_user(telegram_id)
        return user.row
