"""The parts `bench/bot.py` runs, one process each, with the `ppb` package on PYTHONPATH
(this tree's, or another checkout's for the before column): `telegram` (the sandbox's Bot
API emulator alone, standing in for Telegram), `app` (PPB's HTTP app; in webhook mode the
bot inside it) and `bot` (the polling bot, calling the core in its process or the REST API).

    python bench/bot_parts.py ROLE CONFIG_JSON

A part prints one line, `ready`, once it serves, and stops when its stdin closes (so no
part outlives the bench). Only APIs both trees have are used here.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import threading
import time
from typing import Any

import uvicorn

TRACE: list[tuple[float, str, str]] = []
"""With `trace` in the config: (time, process, what) for every step this part sees."""


def settings_of(config: dict[str, Any]) -> Any:
    from ppb.config import load_settings

    return load_settings(**config["settings"])


def stdin_closed() -> asyncio.Future[None]:
    """Resolves when the bench closes this part's stdin (or dies)."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()

    def wait() -> None:
        sys.stdin.read()
        loop.call_soon_threadsafe(lambda: done.done() or done.set_result(None))

    threading.Thread(target=wait, daemon=True).start()
    return done


def mark(process: str, what: str) -> None:
    TRACE.append((time.time(), process, what))


class Traced:
    """ASGI wrapper noting when each request arrives and when its answer is sent."""

    def __init__(self, app: Any, process: str) -> None:
        self.app = app
        self.process = process

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope["path"]
        name = path.rsplit("/", 1)[-1] if "/botapi/" in path else f"{scope['method']} {path}"
        task = id(asyncio.current_task())
        mark(self.process, f"{name} in #{task}")

        async def sending(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body" and not message.get("more_body"):
                mark(self.process, f"{name} out #{task}")
            await send(message)

        await self.app(scope, receive, sending)


async def serve_until_closed(app: Any, port: int, config: dict[str, Any], after_start: Any = None) -> None:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on", timeout_graceful_shutdown=2))
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("the server stopped while starting")
        await asyncio.sleep(0.02)
    if after_start is not None:
        await after_start()
    print("ready", flush=True)
    await stdin_closed()
    server.should_exit = True
    await task


async def telegram(config: dict[str, Any]) -> None:
    from starlette.applications import Starlette
    from starlette.routing import Mount

    from ppb.sandbox.emulator import Emulator
    from ppb.sandbox.routes import SandboxApp

    settings = settings_of(config)
    emulator = Emulator(config["token"])
    app: Any = Starlette(routes=[Mount("/sandbox", app=SandboxApp(emulator, settings))])
    if config.get("trace"):
        app = Traced(app, "telegram")
    try:
        await serve_until_closed(app, config["port"], config)
    finally:
        await emulator.close()


async def app(config: dict[str, Any]) -> None:
    from ppb.compose.web import http_app
    from ppb.store.migrate import upgrade

    settings = settings_of(config)
    await asyncio.to_thread(upgrade, settings.async_database_url)
    asgi = http_app(settings)

    async def register() -> None:
        if settings.bot_mode == "webhook":
            from ppb.http.webhook import register_webhook

            await register_webhook(settings)

    if config.get("trace"):
        trace_core("app")
    await serve_until_closed(Traced(asgi, "app") if config.get("trace") else asgi, settings.http_port, config,
                             register)
    if hasattr(asgi.state, "webhook_bot"):
        await asgi.state.webhook_bot.close()


async def bot(config: dict[str, Any]) -> None:
    from ppb.compose.bot import build_bot_app
    from ppb.compose.core import build_core

    settings = settings_of(config)
    actors = bool(config.get("actors"))
    if actors:  # a Ray of its own, as `ppb up` starts one: the user and chat shards are actors in it
        import ray

        ray.init(namespace=settings.ray_namespace, num_cpus=2, include_dashboard=False,
                 logging_level=logging.WARNING, log_to_driver=False)
        warm_up_shards(settings)
    core = None if config.get("over_http") else build_core(settings, actors=actors, with_scraper=False)
    if core is not None:
        await core.store.connect()
    if config.get("trace"):
        trace_core("bot")
    bot_app = build_bot_app(settings, core=core, actors=actors)
    await bot_app.prepare()
    task = asyncio.create_task(bot_app.dispatcher.start_polling(
        bot_app.bot, handle_signals=False, close_bot_session=False, polling_timeout=config.get("polling_timeout", 5)))
    print("ready", flush=True)
    await stdin_closed()
    await bot_app.dispatcher.stop_polling()
    await task
    await bot_app.close()
    if core is not None:
        await core.store.disconnect()
    if actors:
        import ray

        ray.shutdown()


def warm_up_shards(settings: Any) -> None:
    """Start every shard before the bench begins (a shard's first call starts its process)."""
    import ray

    from ppb.actors.remote import ChatShards, UserShards
    from ppb.compose.store import open_store

    handles = UserShards(settings, open_store).shards.start_all() + ChatShards(settings).shards.start_all()
    ray.get([handle.stats.remote() for handle in handles], timeout=120)


def trace_core(process: str) -> None:
    """Note the start and end of every call of the bot's `Ppb` (the core in process, or
    the REST API) and of every Bot API request the bot makes."""
    from ppb.core.ppb import LocalPpb

    def wrap(owner: type, name: str, label: str) -> None:
        method = getattr(owner, name)

        async def traced(*args: Any, **kwargs: Any) -> Any:
            task = id(asyncio.current_task())
            mark(process, f"{label} {name} in #{task}")
            try:
                return await method(*args, **kwargs)
            finally:
                mark(process, f"{label} {name} out #{task}")

        setattr(owner, name, traced)

    for name in ("register_user", "get_user", "event", "set_language", "training_state", "start_training",
                 "rate", "train", "finish_training", "feed_page", "channels"):
        wrap(LocalPpb, name, "core")
    from aiogram.dispatcher.dispatcher import Dispatcher

    wrap(Dispatcher, "feed_update", "aiogram")
    from ppb.core import training
    from ppb.core.scoring import Scoring
    from ppb.store.queries import Store

    for name in ("rate", "upsert_user", "apply_event", "set_training", "link_channels", "start_training_set"):
        if hasattr(Store, name):  # the other tree may not have them all
            wrap(Store, name, "store")
    for name in ("train", "sync"):
        wrap(Scoring, name, "ranking")
    from ppb.store.engine.sqlite_writer import SQLiteWriter

    write = SQLiteWriter._write

    def counted(self: Any, connection: Any, batch: Any, *, begun: bool = False) -> None:
        mark(process, f"writer {'inline' if begun else 'thread'} {len(batch)}")
        return write(self, connection, batch, begun=begun)

    SQLiteWriter._write = counted  # type: ignore[method-assign]
    try:
        from ppb.actors.remote import ShardSet
    except ImportError:
        pass
    else:
        call = ShardSet.call

        async def ray_call(self: Any, index: int, method: str, *args: Any) -> Any:
            task = id(asyncio.current_task())
            label = f"ray {self._kind}-{index}.{method}"
            if method == "held":
                label += f" {args[2]}"
            if method != "watch":
                mark(process, f"{label} in #{task}")
            try:
                return await call(self, index, method, *args)
            finally:
                if method != "watch":
                    mark(process, f"{label} out #{task}")

        ShardSet.call = ray_call  # type: ignore[method-assign]
    wrap_function(training, "after_rating", "core", process)
    wrap_function(training, "read", "core", process)


def wrap_function(module: Any, name: str, label: str, process: str) -> None:
    function = getattr(module, name)

    async def traced(*args: Any, **kwargs: Any) -> Any:
        task = id(asyncio.current_task())
        mark(process, f"{label} {name} in #{task}")
        try:
            return await function(*args, **kwargs)
        finally:
            mark(process, f"{label} {name} out #{task}")

    setattr(module, name, traced)


ROLES = {"telegram": telegram, "app": app, "bot": bot}


def main() -> None:
    role, raw = sys.argv[1], sys.argv[2]
    config = json.loads(raw)
    logging.basicConfig(level=logging.WARNING)
    try:
        asyncio.run(ROLES[role](config))
    finally:
        if config.get("trace"):
            with open(config["trace"], "w") as out:
                json.dump(TRACE, out)


if __name__ == "__main__":
    main()
