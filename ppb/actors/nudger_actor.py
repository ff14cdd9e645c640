"""`nudger`: the actor that runs a retention pass every NUDGE_CHECK_INTERVAL seconds.

It keeps no schedule of its own (each pass asks the store who is due), so Ray restarting
it, anywhere, loses nothing; see `nudger.py` for why no nudge is sent twice.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import ray

from ppb.actors.named import kill_named, named_actor
from ppb.actors.nudger import Nudger
from ppb.config import Settings
from ppb.metrics import record_pass

log = logging.getLogger("ppb.nudger")
NAME = "nudger"

NudgerBuilder = Callable[[Settings], Awaitable[Nudger]]
"""Makes the nudger with its real parts (the composition root's)."""


@ray.remote(num_cpus=0, max_restarts=-1)
class NudgerActor:
    def __init__(self, settings: Settings, build: NudgerBuilder) -> None:
        self._settings = settings
        self._build = build
        self._nudger: Nudger | None = None
        self._pass_lock = asyncio.Lock()
        self._last_pass: dict[str, Any] | None = None  # when the last pass ended, and its report
        # Started here, not only by `start`: after Ray restarts the actor the timer runs again.
        self._loop: asyncio.Task[None] | None = asyncio.get_event_loop().create_task(self._every_interval())

    async def start(self) -> bool:
        """Start the timer unless it runs already (calling it again is harmless)."""
        if self._loop is None or self._loop.done():
            self._loop = asyncio.ensure_future(self._every_interval())
        return True

    async def run_pass(self) -> dict[str, int]:
        """One pass now; passes never overlap."""
        async with self._pass_lock:
            report = dataclasses.asdict(await (await self._built()).run_pass())
        self._last_pass = {"at": time.time(), "report": report}
        record_pass(report)
        return report

    async def status(self) -> dict[str, Any]:
        """The timer's state and the last pass (for `ppb status`)."""
        running = self._loop is not None and not self._loop.done()
        return {"running": running, "interval_s": self._settings.nudge_check_interval, "last_pass": self._last_pass}

    async def _every_interval(self) -> None:
        while True:
            try:
                report = await self.run_pass()
                if any(report.values()):
                    log.info("nudger pass: %s", report)
            except Exception:  # the database or the Bot API away: the next pass tries again
                log.exception("nudger pass failed")
            await asyncio.sleep(self._settings.nudge_check_interval)

    async def _built(self) -> Nudger:
        if self._nudger is None:
            self._nudger = await self._build(self._settings)
        return self._nudger


def start_nudger(settings: Settings, build: NudgerBuilder) -> Any:
    """Create (or find) the `nudger` actor running what `build` makes, and start its timer;
    returns its handle."""
    handle = named_actor(NudgerActor, NAME, settings, build)
    ray.get(handle.start.remote(), timeout=60)
    return handle


def stop_nudger(settings: Settings) -> None:
    """Stop the `nudger` for good (its passes keep no state to lose)."""
    kill_named(NAME, settings)
