"""Helpers for the sandbox and bot tests: a real HTTP server in the test's loop, a person."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn
from starlette.types import ASGIApp

from tests.ports import free_port


@contextlib.asynccontextmanager
async def serve(app: ASGIApp, port: int | None = None) -> AsyncIterator[str]:
    """Serve `app` with uvicorn on a free port in this event loop; yields its base URL."""
    port = free_port() if port is None else port
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("the server stopped while starting")
            await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def wait_for(condition: Callable[[], Any], deadline_s: float, what: str) -> Any:
    """Poll an async `condition` until it returns something truthy; fail naming `what`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + deadline_s
    last: Any = None
    while loop.time() < deadline:
        last = await condition()
        if last:
            return last
        await asyncio.sleep(0.03)
    raise AssertionError(f"timed out after {deadline_s} s waiting for {what} (last: {last!r})")


class Person:
    """A person chatting with the bot through the sandbox's person API."""

    def __init__(self, client: httpx.AsyncClient, user_id: int, first_name: str = "Ann",
                 language_code: str = "en") -> None:
        self.client = client
        self.user_id = user_id
        self.first_name = first_name
        self.language_code = language_code

    async def say(self, text: str) -> int:
        response = await self.client.post(
            f"/sandbox/api/chats/{self.user_id}/messages",
            json={"text": text, "first_name": self.first_name, "username": f"u{self.user_id}",
                  "language_code": self.language_code},
        )
        response.raise_for_status()
        return int(response.json()["message_id"])

    async def chat(self) -> dict[str, Any]:
        response = await self.client.get(f"/sandbox/api/chats/{self.user_id}")
        response.raise_for_status()
        return response.json()

    async def messages(self) -> list[dict[str, Any]]:
        return (await self.chat())["messages"]

    async def bot_messages(self) -> list[dict[str, Any]]:
        return [m for m in await self.messages() if m["from_bot"]]

    async def press(self, message_id: int, data: str) -> None:
        response = await self.client.post(
            f"/sandbox/api/chats/{self.user_id}/callbacks", json={"message_id": message_id, "data": data}
        )
        response.raise_for_status()

    async def find_button(self, label: str, deadline_s: float = 30.0) -> tuple[int, dict[str, Any]]:
        """The newest bot message with a button whose text contains `label`, waiting for it."""

        async def look() -> tuple[int, dict[str, Any]] | None:
            for message in reversed(await self.bot_messages()):
                for row in (message["reply_markup"] or {}).get("inline_keyboard", []):
                    for button in row:
                        if label in button["text"]:
                            return message["message_id"], button
            return None

        return await wait_for(look, deadline_s, f"a button {label!r} in the chat of {self.user_id}")

    async def tap(self, label: str, deadline_s: float = 30.0) -> int:
        """Press the button labelled `label`; returns the id of the message it is on."""
        message_id, button = await self.find_button(label, deadline_s)
        await self.press(message_id, button["callback_data"])
        return message_id

    async def wait_text(self, fragment: str, deadline_s: float = 30.0) -> dict[str, Any]:
        """The newest bot message whose text contains `fragment`, waiting for it."""

        async def look() -> dict[str, Any] | None:
            for message in reversed(await self.bot_messages()):
                if fragment in (message["text"] or message["caption"] or ""):
                    return message
            return None

        return await wait_for(look, deadline_s, f"a message with {fragment!r} for {self.user_id}")


class Harness:
    """The real app (API, store, sandbox) under uvicorn and the real bot polling it."""

    def __init__(self, base: str, settings: Any, app: Any, bot_app: Any, client: httpx.AsyncClient) -> None:
        self.base = base
        self.settings = settings
        self.app = app
        self.bot_app = bot_app
        self.client = client
        self.emulator = app.state.sandbox

    def person(self, user_id: int, first_name: str = "Ann", language_code: str = "en") -> Person:
        return Person(self.client, user_id, first_name, language_code)

    async def api(self, method: str, path: str, body: Any = None) -> Any:
        response = await self.client.request(method, f"/api/v1{path}", json=body)
        response.raise_for_status()
        return response.json()


@contextlib.asynccontextmanager
async def running_bot(settings: Any, api_key: str, *, over_http: bool = False, services: Any = None,
                      **bot_options: Any) -> AsyncIterator[Harness]:
    """Serve the app on the settings' port and poll it with the bot, in this event loop; the
    bot calls the app's core in process (as the bot actor does), or with `over_http` the
    REST API (as a bot running elsewhere does). `services`: the app's, when a test builds
    them (with a scraper on the Telegram stand, say)."""
    from ppb.compose.bot import build_bot_app
    from ppb.compose.web import http_app as build_app

    app = build_app(settings, services)
    async with serve(app, settings.http_port) as base, httpx.AsyncClient(
        base_url=base, headers={"X-API-Key": api_key}, timeout=30
    ) as client:
        core = None if over_http else app.state.services.core
        try:
            async with polling_bot(settings, core, **bot_options) as bot_app:
                yield Harness(base, settings, app, bot_app, client)
        finally:
            await app.state.sandbox.close()


@contextlib.asynccontextmanager
async def polling_bot(settings: Any, core: Any, **bot_options: Any) -> AsyncIterator[Any]:
    """One run of the bot process: built, polling in this loop, then stopped and closed (a
    second one after it is the bot restarted, with nothing of the first in memory)."""
    from ppb.compose.bot import build_bot_app

    bot_app = build_bot_app(settings, core=core, retry_outage_s=15.0, **bot_options)
    await bot_app.prepare()
    polling = asyncio.create_task(
        bot_app.dispatcher.start_polling(bot_app.bot, handle_signals=False, close_bot_session=False,
                                         polling_timeout=5)
    )
    try:
        yield bot_app
    finally:
        await bot_app.dispatcher.stop_polling()
        await polling
        await bot_app.close()


def buttons(message: dict[str, Any]) -> list[str]:
    return [b["text"] for row in (message["reply_markup"] or {}).get("inline_keyboard", []) for b in row]


@dataclass
class Running:
    """The app and bot served from a thread of their own (Playwright's sync API keeps an
    event loop in the test's thread)."""

    harness: Harness
    loop: asyncio.AbstractEventLoop

    def run(self, coroutine: Any, timeout: float = 30) -> Any:
        """Run a coroutine in the server's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)


@contextlib.contextmanager
def bot_in_thread(settings: Any, api_key: str, name: str) -> Iterator[Running]:
    """`running_bot` in a thread with its own loop; stopped, and its failure raised, at exit."""
    started: Future[Running] = Future()
    stop: dict[str, Any] = {}

    async def main() -> None:
        stop["event"] = asyncio.Event()
        async with running_bot(settings, api_key) as harness:
            started.set_result(Running(harness, asyncio.get_running_loop()))
            await stop["event"].wait()
            # Wake the pages' long polls (held up to 25 s), which uvicorn would wait out.
            for chat in list(harness.emulator.chats.values()):
                chat.touch()

    def thread_main() -> None:
        try:
            asyncio.run(main())
        except BaseException as error:  # surfaced to the test instead of dying silently
            if not started.done():
                started.set_exception(error)
            else:
                stop["error"] = error

    thread = threading.Thread(target=thread_main, name=name, daemon=True)
    thread.start()
    result = started.result(timeout=60)
    try:
        yield result
    finally:
        result.loop.call_soon_threadsafe(stop["event"].set)
        thread.join(timeout=30)
        assert not thread.is_alive(), "the server thread did not stop"
        assert "error" not in stop, f"the server thread failed: {stop.get('error')!r}"
