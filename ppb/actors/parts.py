"""The application's long-lived parts (shards, bot, nudger, outbox, scraper session), made sure of
from every Api replica's start-up, and stopped when the application goes. Which parts there
are, and what each runs, is the composition root's (`Parts`, handed to the keeper).

Every Api replica calls `ensure_parts` when it starts, so `ppb up` and `serve deploy` run the
same whole product. It finds (or creates) one detached actor, `parts`, and asks it to make
sure each part exists; the parts are named detached actors created with `get_if_exists=True`,
so replicas starting at the same time, or a replica restarted, create nothing twice.

`parts` then watches the Serve application: once `ppb` is gone (`serve delete ppb`,
`serve shutdown`), it stops the parts and itself. A replica going away (downscaling, a
rolling update) stops nothing, since other replicas serve on. When a new deployment brings
other shard counts (`PPB_USER_SHARDS`, `PPB_CHAT_SHARDS`), the old shards are stopped and
the new ones rebuild their keys from the store and Redis on first use (no state lives only
in a shard), so no shard keeps serving from a cache under the old routing.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import ray

from ppb.actors.bot import wants_bot
from ppb.actors.named import kill_named, named_actor
from ppb.config import Settings

log = logging.getLogger("ppb.parts")
NAME = "parts"
WATCH_EVERY_S = 5.0
"""How often the keeper asks Serve whether the application still runs (each ask builds
Serve's whole status: at every 2 s it was 2% of a core of an idle `ppb up`)."""
SHARD_NAME = re.compile(r"(users|chats)-\d+")
ENSURE_ATTEMPTS = 20
GONE_AFTER_CHECKS = 2
"""Checks in a row that find no application before its parts are stopped."""


@dataclass(frozen=True)
class Parts:
    """What the keeper runs: `start` creates whatever part is missing (each by name,
    idempotently; blocking Ray calls) and says what runs; `stop` stops them all for good;
    `register_webhook` points the Bot API at the Api (webhook mode)."""

    start: Callable[[Settings], dict[str, Any]]
    stop: Callable[[Settings], None]
    register_webhook: Callable[[Settings], Awaitable[Any]]


def ensure_parts(settings: Settings, app_name: str, parts: Parts) -> threading.Thread:
    """What an Api replica of `app_name` runs at start-up: in the background (the replica
    serves meanwhile), the keeper found or created and asked to make sure every part exists
    for these settings; asked again of a new keeper if that one was just ending (an
    application deleted and deployed again at once)."""

    def run() -> None:
        for attempt in range(ENSURE_ATTEMPTS):
            try:
                keeper = named_actor(PartsKeeper, NAME, settings, app_name, parts)
                ray.get(keeper.ensure.remote(settings), timeout=120)
                return
            except Exception as error:  # the keeper ending or restarting: a new one next time
                log.info("parts not ensured yet (%s: %s); again", type(error).__name__, error)
                time.sleep(min(0.5 * 2**attempt, 5.0))
        log.error("the application's parts could not be started; see the log of the `parts` actor")

    thread = threading.Thread(target=run, name="ppb-ensure-parts", daemon=True)
    thread.start()
    return thread


def shard_names(settings: Settings) -> list[str]:
    """Every shard actor in the namespace, whatever count it was started under (an old
    replica may still have reached one beyond the current count)."""
    return sorted(
        actor["name"] for actor in ray.util.list_named_actors(all_namespaces=True)
        if actor["namespace"] == settings.ray_namespace and SHARD_NAME.fullmatch(actor["name"])
    )


def stop_shards(settings: Settings) -> None:
    """Stop every user and chat shard of the namespace for good."""
    for name in shard_names(settings):
        kill_named(name, settings)


def application_running(app_name: str) -> bool | None:
    """Whether Serve runs the application: False once it is deleted or Serve is shut down,
    None when Serve's controller cannot be asked just now."""
    from ray import serve
    from ray.serve._private.constants import SERVE_CONTROLLER_NAME, SERVE_NAMESPACE

    try:
        ray.get_actor(SERVE_CONTROLLER_NAME, namespace=SERVE_NAMESPACE)
    except ValueError:
        return False  # `serve shutdown`: no controller at all
    try:
        applications = serve.status().applications
    except Exception:  # the controller restarting: ask again at the next check
        return None
    app = applications.get(app_name)
    return app is not None and getattr(app.status, "value", app.status) != "DELETING"


@ray.remote(num_cpus=0, max_restarts=-1)
class PartsKeeper:
    """`parts`: makes sure the parts exist, and stops them when the application is gone."""

    def __init__(self, settings: Settings, app_name: str, parts: Parts,
                 watch_every_s: float = WATCH_EVERY_S) -> None:
        self._settings = settings
        self._app_name = app_name
        self._parts = parts
        self._watch_every_s = watch_every_s
        self._started: dict[str, Any] = {}
        self._webhook_registered = False
        self._lock = asyncio.Lock()
        self._pending = 0  # `ensure` calls under way: a deployment that has just started
        self._watch = asyncio.get_event_loop().create_task(self._watch_forever())

    async def ensure(self, settings: Settings) -> dict[str, Any]:
        """Make sure every part exists for `settings` (a new deployment's, maybe with other
        shard counts); harmless to call again."""
        self._pending += 1
        try:
            return await self._ensure(settings)
        finally:
            self._pending -= 1

    async def _ensure(self, settings: Settings) -> dict[str, Any]:
        async with self._lock:
            old = self._settings
            if (old.user_shards, old.chat_shards) != (settings.user_shards, settings.chat_shards):
                log.info("shard counts changed (%d, %d) -> (%d, %d): restarting the shards",
                         old.user_shards, old.chat_shards, settings.user_shards, settings.chat_shards)
                await asyncio.to_thread(stop_shards, settings)
            self._started = await asyncio.to_thread(self._parts.start, settings)
            self._settings = settings
            await self._register_webhook()
            return self._started

    async def status(self) -> dict[str, Any]:
        return {"application": self._app_name, "started": self._started, "user_shards": self._settings.user_shards,
                "chat_shards": self._settings.chat_shards, "bot_mode": self._bot_mode(),
                "webhook_registered": self._webhook_registered}

    def _bot_mode(self) -> str:
        return self._settings.bot_mode if wants_bot(self._settings) else "off"

    async def _register_webhook(self) -> None:
        """Webhook mode: point the Bot API at the Api (until it took it once)."""
        if self._bot_mode() != "webhook" or self._webhook_registered:
            return
        try:
            await self._parts.register_webhook(self._settings)
        except Exception as error:  # the Api (the sandbox's Bot API) not up yet: the next check
            log.info("webhook not registered yet: %s: %s", type(error).__name__, error)
            return
        self._webhook_registered = True

    async def _watch_forever(self) -> None:
        missing = 0
        while True:
            await asyncio.sleep(self._watch_every_s)
            try:
                running = await asyncio.to_thread(application_running, self._app_name)
                missing = missing + 1 if running is False else 0
                if missing >= GONE_AFTER_CHECKS and await self._stopped():
                    break
                if running:
                    await self._register_webhook()
            except Exception:  # never let the watch die; the next check tries again
                log.exception("parts check failed")
        ray.kill(ray.get_runtime_context().current_actor, no_restart=True)

    async def _stopped(self) -> bool:
        """Stop the parts of an application that is gone; False (keep watching) when a new
        deployment asked for its parts meanwhile."""
        async with self._lock:
            if self._pending or await asyncio.to_thread(application_running, self._app_name) is not False:
                return False
            log.info("application %s is gone: stopping its parts", self._app_name)
            await asyncio.to_thread(self._parts.stop, self._settings)
            return not self._pending
