"""`outbox`: the actor that owns outgoing messages (live pushes, digests) and finds what to
deliver. One per namespace, shared by every Api replica; Ray restarting it loses nothing
(see outbox.py: messages are claimed in the store before each send)."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import ray

from ppb.actors.named import kill_named, named_actor
from ppb.config import Settings

if TYPE_CHECKING:
    from ppb.actors.delivery import Deliverer
    from ppb.actors.outbox import Outbox

log = logging.getLogger("ppb.outbox")
NAME = "outbox"
ARRIVAL_EVERY_S = 1.0

OutboxBuilder = Callable[[Settings], Awaitable["tuple[Outbox, Deliverer]"]]
"""Makes the outbox and the deliverer with their real parts (the composition root's)."""


@ray.remote(num_cpus=0, max_restarts=-1)
class OutboxActor:
    def __init__(self, settings: Settings, build: OutboxBuilder) -> None:
        self._settings = settings
        self._build = build
        self._parts: tuple[Outbox, Deliverer] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        # Started here, not only by `start`: after Ray restarts the actor it sends again.
        self._starting = asyncio.get_event_loop().create_task(self._start())

    async def _start(self) -> None:
        while self._parts is None:
            try:
                self._parts = await self._build(self._settings)
            except Exception:  # the database away: try again shortly
                log.exception("outbox could not start")
                await asyncio.sleep(2.0)
        outbox, deliverer = self._parts
        self._tasks = [asyncio.ensure_future(outbox.run()),
                       asyncio.ensure_future(deliverer.run(ARRIVAL_EVERY_S, self._settings.digest_check_interval))]

    async def start(self) -> bool:
        return True

    async def wake(self) -> None:
        """New posts or messages: look now rather than at the next tick."""
        if self._parts is not None:
            self._parts[0].wake()
            self._parts[1].wake()

    async def stats(self) -> dict[str, Any]:
        import os

        if self._parts is None:
            return {"ready": False, "pid": os.getpid()}
        outbox = self._parts[0]
        return {"ready": True, "pid": os.getpid(), "paused_for": outbox.paused_for, "in_flight": outbox.in_flight,
                **dataclasses.asdict(outbox.counters)}


def start_outbox(settings: Settings, build: OutboxBuilder) -> Any:
    """Create (or find) the `outbox` actor running what `build` makes; returns its handle."""
    handle = named_actor(OutboxActor, NAME, settings, build)
    ray.get(handle.start.remote(), timeout=60)
    return handle


def stop_outbox(settings: Settings) -> None:
    kill_named(NAME, settings)
