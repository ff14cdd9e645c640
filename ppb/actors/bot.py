"""`bot`: the actor that runs the bot in polling mode (webhook mode runs in the Api replicas).

It polls the Bot API (Telegram's, or the sandbox's inside the Api deployment) with the bot
its builder makes (the composition root's: the core in this process, with its own database
pool, the `users-<k>` shards and the Scorer deployment through Ray handles, never the public
HTTP proxy; its chats' message ids in the `chats-<k>` shards), so it can be restarted anywhere.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import ray

from ppb import heap
from ppb.actors.named import kill_named, named_actor
from ppb.config import Settings

log = logging.getLogger("ppb.bot")
NAME = "bot"
RESTART_DELAY_S = 2.0

BotBuilder = Callable[[Settings], Awaitable[Callable[[], Any]]]
"""Makes, once per actor, what makes a new bot app each time polling starts again."""


@ray.remote(num_cpus=0, max_restarts=-1)
class BotActor:
    def __init__(self, settings: Settings, build: BotBuilder) -> None:
        self._settings = settings
        self._build = build
        self._app: Any = None
        # Started here, not only by `start`: after Ray restarts the actor it polls again.
        self._task: asyncio.Task[None] | None = asyncio.get_event_loop().create_task(self._run_forever())

    async def start(self) -> bool:
        """Start polling unless it runs already (so calling it again is harmless)."""
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._run_forever())
        return True

    async def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def stop(self) -> None:
        if self._app is not None:
            try:
                await self._app.dispatcher.stop_polling()
            except RuntimeError:  # not polling yet
                pass
        if self._task is not None:
            self._task.cancel()

    async def _run_forever(self) -> None:
        new_app = await self._build(self._settings)
        while True:
            self._app = new_app()
            try:
                await self._app.bot.delete_webhook()
                await self._app.prepare()
                heap.settle()  # the app and its imports, kept for good: out of the collector's way
                await self._app.dispatcher.start_polling(self._app.bot, handle_signals=False,
                                                         close_bot_session=False)
                return
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the Bot API not reachable yet: try again
                log.warning("bot polling stopped: %s: %s", type(error).__name__, error)
                await asyncio.sleep(RESTART_DELAY_S)
            finally:
                await self._app.close()


def wants_bot(settings: Settings) -> bool:
    """A bot runs in the sandbox, or with a token; polling needs this actor."""
    return settings.use_sandbox or settings.bot_token is not None


def start_bot(settings: Settings, build: BotBuilder) -> Any:
    """Create (or find) the `bot` actor polling with what `build` makes; returns its handle."""
    handle = named_actor(BotActor, NAME, settings, build)
    ray.get(handle.start.remote(), timeout=60)
    return handle


def stop_bot(settings: Settings, timeout: float = 10.0) -> None:
    """End the bot's polling (waiting at most `timeout` seconds), then the actor itself."""
    try:
        handle = ray.get_actor(NAME, namespace=settings.ray_namespace)
    except ValueError:
        return
    try:
        ray.get(handle.stop.remote(), timeout=timeout)
    except Exception as error:  # stopping goes on: the actor is killed below
        log.warning("bot did not stop cleanly: %s", error)
    kill_named(NAME, settings)

