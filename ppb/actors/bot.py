"""`bot`: the actor that runs the bot in polling mode (webhook mode runs in the Api replicas).

It polls the Bot API (Telegram's, or the sandbox's inside the Api deployment), calls the
core in its own process (its own database pool, the `users-<k>` shards and the Scorer
deployment through Ray handles: never the public HTTP proxy), and keeps its chats'
message ids in the `chats-<k>` shards, so it can be restarted anywhere.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import ray

from ppb.actors.named import kill_named, named_actor
from ppb.config import Settings

log = logging.getLogger("ppb.bot")
NAME = "bot"
RESTART_DELAY_S = 2.0


@ray.remote(num_cpus=0, max_restarts=-1)
class BotActor:
    def __init__(self, settings: Settings, use_scorer: bool = True) -> None:
        self._settings = settings
        self._use_scorer = use_scorer  # rank through the Scorer deployment, else in this process
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
        from ppb.compose import build_bot_app, build_core, scorer_handle

        scorer = scorer_handle() if self._use_scorer else None
        core = build_core(self._settings, actors=True, scorer=scorer)
        await core.store.connect()
        while True:
            self._app = build_bot_app(self._settings, core=core, actors=True)
            try:
                await self._app.bot.delete_webhook()
                await self._app.prepare()
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


def start_bot(settings: Settings, *, use_scorer: bool = True) -> Any:
    """Create (or find) the `bot` actor and start it polling; returns its handle. Without
    `use_scorer` (no Serve application running) it ranks in its own process."""
    handle = named_actor(BotActor, NAME, settings, use_scorer)
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

