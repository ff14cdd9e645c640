"""`scraper-<session>`: the scraper session as a Ray actor, and the client the API reaches it by.

One actor per Telethon session (a session must not be used by two processes at once),
created by name with `get_if_exists=True`, restarted by Ray when it dies; cursors live in
the store, so a restarted actor carries on where the last one stopped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import ray
from ray.exceptions import ActorDiedError, ActorUnavailableError, RayTaskError

from ppb.config import Settings
from ppb.scraper.errors import ScraperUnavailable
from ppb.scraper.session import Scraper
from ppb.scraper.telethon_session import session_name

log = logging.getLogger(__name__)

RETRIES = 3
UNAVAILABLE_AFTER_S = 30.0

ScraperBuilder = Callable[[Settings], Scraper]
"""Makes the session's scraper over a store of its own (the composition root's)."""


def actor_name(settings: Settings) -> str:
    return f"scraper-{session_name(settings)}"


@ray.remote(num_cpus=0, max_restarts=-1)
class ScraperActor:
    """Holds the Telethon client, its entity cache and the FloodWait queue of one session."""

    def __init__(self, settings: Settings, build: ScraperBuilder) -> None:
        self._scraper = build(settings)
        self._connected: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"ScraperActor({self._scraper!r})"

    async def _ready(self) -> Scraper:
        failed = self._connected is not None and self._connected.done() and self._connected.exception()
        if self._connected is None or failed:  # a database that was down is tried again
            self._connected = asyncio.ensure_future(self._scraper.connect())
        await asyncio.shield(self._connected)
        return self._scraper

    @ray.method(max_task_retries=RETRIES)
    async def start(self) -> None:
        await (await self._ready()).start()

    @ray.method(max_task_retries=RETRIES)
    async def scrape(self, channel: str, limit: int) -> dict[str, Any]:
        return await (await self._ready()).scrape(channel, limit)

    @ray.method(max_task_retries=RETRIES)
    async def join(self, channel: str) -> dict[str, Any]:
        return await (await self._ready()).join(channel)

    async def status(self) -> dict[str, Any]:
        return self._scraper.status()


class RayScraperClient:
    """Reaches `scraper-<session>` by name (creating it once, running what `build` makes);
    Ray errors become 503s."""

    def __init__(self, settings: Settings, build: ScraperBuilder) -> None:
        self._settings = settings
        self._build = build
        self._handle: Any = None

    def __repr__(self) -> str:
        return f"RayScraperClient(name={actor_name(self._settings)!r})"

    def handle(self) -> Any:
        if self._handle is None:
            self._handle = ScraperActor.options(
                name=actor_name(self._settings),
                namespace=self._settings.ray_namespace,
                get_if_exists=True,
                lifetime="detached",
            ).remote(self._settings, self._build)
        return self._handle

    async def _call(self, method: str, *args: Any) -> Any:
        deadline = time.monotonic() + UNAVAILABLE_AFTER_S
        delay = 0.05
        while True:
            try:
                return await getattr(self.handle(), method).remote(*args)
            except RayTaskError as error:
                raise (error.cause or error) from None
            except (ActorDiedError, ActorUnavailableError) as error:
                if time.monotonic() >= deadline:
                    raise ScraperUnavailable("the scraper is not answering; try again shortly") from error
                if isinstance(error, ActorDiedError):
                    self._handle = None
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)

    async def start(self) -> None:
        await self._call("start")

    async def scrape(self, channel: str, limit: int) -> dict[str, Any]:
        return await self._call("scrape", channel, limit)

    async def join(self, channel: str) -> dict[str, Any]:
        return await self._call("join", channel)

    async def status(self) -> dict[str, Any]:
        return await self._call("status")

    async def close(self) -> None:
        """The actor outlives API replicas; nothing to release here."""

    def kill(self) -> None:
        """Stop the session for good (a deployment taken off a cluster)."""
        try:
            ray.kill(ray.get_actor(actor_name(self._settings), namespace=self._settings.ray_namespace), no_restart=True)
        except ValueError:
            pass
        self._handle = None
