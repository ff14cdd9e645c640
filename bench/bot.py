"""The bot end to end through the sandbox emulator: updates/s, p50 and p99 per update, side
by side for the bot calling PPB over its REST API (`HttpPpb`, as a bot running elsewhere
does, and as every bot did before the core was called in process), polling in process
(`LocalPpb`, as the `bot` actor does), and webhook mode (in process, in the Api replica).

    python bench/bot.py [--persons 40] [--duration 10]

Each person sends /start, presses "Start training" and rates every card (👍 and 👎 in turn)
until the training completes (the model is fitted), then switches the language (a write)
back and forth for the rest of the duration. An update's time runs from the person's
message or button press (the person's API) to the bot's answer being visible in the
person's view of the chat (read by long polling, as the sandbox page does). The app, the
emulator and the persons share one process and event loop, so the persons' own HTTP costs
are in the figures of every mode alike. SQLite in a temporary
directory. Polling bots run in a process of their own, as the `bot` actor does (the app,
the emulator and the persons in this one); the webhook bot runs inside the app's process,
as in an Api replica. Persons tap as fast as answers come, so the flood guard is set out
of their way. Prints one table; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import logging
import multiprocessing
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ppb.config import Settings, load_settings  # noqa: E402
from ppb.store.migrate import upgrade  # noqa: E402

API_KEY = "bench-bot-key"
_ids = itertools.count(5_000_000_001)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def serve(app: Any, port: int) -> AsyncIterator[str]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on", timeout_graceful_shutdown=2))
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("the server stopped while starting")
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@dataclass
class Run:
    latencies: list[float] = field(default_factory=list)
    started: float = 0.0
    finished: float = 0.0


def _buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for row in (message.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]


def _find(chat: dict[str, Any], text: str, button: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The newest bot message containing `text` with a button labelled with `button`."""
    for message in reversed(chat["messages"]):
        if message["from_bot"] and text in (message.get("text") or ""):
            for candidate in _buttons(message):
                if button in candidate["text"]:
                    return message, candidate
    return None


class Person:
    def __init__(self, client: httpx.AsyncClient, run: Run) -> None:
        self.client = client
        self.run = run
        self.user_id = next(_ids)
        self.version = 0

    async def until(self, found: Callable[[dict[str, Any]], Any], deadline_s: float = 30) -> Any:
        """Long-poll the person's view of the chat until `found` returns something."""
        deadline = time.perf_counter() + deadline_s
        while time.perf_counter() < deadline:
            try:
                response = await self.client.get(f"/sandbox/api/chats/{self.user_id}",
                                                 params={"after_version": self.version})
            except (httpx.ReadError, httpx.RemoteProtocolError):  # a dropped keep-alive: poll again
                continue
            response.raise_for_status()
            chat = response.json()
            self.version = chat["version"]
            result = found(chat)
            if result:
                return result
        raise RuntimeError(f"person {self.user_id}: no answer within {deadline_s} s")

    async def timed(self, send: Callable[[], Any], found: Callable[[dict[str, Any]], Any]) -> Any:
        start = time.perf_counter()
        response = await send()
        response.raise_for_status()
        result = await self.until(found)
        self.run.latencies.append(time.perf_counter() - start)
        return result

    def press(self, message: dict[str, Any], button: dict[str, Any]) -> Callable[[], Any]:
        body = {"message_id": message["message_id"], "data": button["callback_data"]}
        return lambda: self.client.post(f"/sandbox/api/chats/{self.user_id}/callbacks", json=body)

    async def chat_until(self, stop_at: float, scenario: str) -> None:
        say = {"text": "/start", "first_name": "Ann", "username": f"u{self.user_id}", "language_code": "en"}
        menu = await self.timed(lambda: self.client.post(f"/sandbox/api/chats/{self.user_id}/messages", json=say),
                                lambda chat: _find(chat, "Hi, Ann", "Start training"))
        if scenario == "menu":
            menu = _find_button(menu[0], "How it works")
            while time.perf_counter() < stop_at:
                about = await self.timed(self.press(*menu), lambda chat: _find(chat, "How it works\n", "Menu"))
                menu = await self.timed(self.press(*about), lambda chat: _find(chat, "Hi, Ann", "How it works"))
            return
        card = await self.timed(self.press(*menu), lambda chat: _find(chat, "Post 1 of", "👍"))
        rated = 0
        while True:
            message, _ = card
            label = "👍" if rated % 2 == 0 else "👎"
            button = next(b for b in _buttons(message) if b["text"] == label)
            rated += 1
            card = await self.timed(self.press(message, button), lambda chat: (
                _find(chat, f"Post {rated + 1} of", "👍") or _find(chat, "Training complete", "")))
            if "Training complete" in (card[0].get("text") or ""):
                break
        menu = await self.timed(self.press(*_find_button(card[0], "Menu")),
                                lambda chat: _find(chat, "Main menu", "Language"))
        while time.perf_counter() < stop_at:
            languages = await self.timed(self.press(*menu), lambda chat: _find(chat, "Choose your language", "English"))
            menu = await self.timed(self.press(*languages), lambda chat: _find(chat, "Main menu", "Language"))


def _find_button(message: dict[str, Any], label: str) -> tuple[dict[str, Any], dict[str, Any]]:
    return message, next(b for b in _buttons(message) if label in b["text"])


def settings_for(mode: str, directory: Path, index: int = 0) -> Settings:
    url = f"sqlite:///{directory / f'{mode}-{index}.db'}"
    settings = load_settings(
        DATABASE_URL=url, PPB_API_KEY=API_KEY, PPB_HTTP_PORT=free_port(), PPB_DEMO_DATA=True,
        DEFAULT_CHANNELS="@ppb_demo_tech,@ppb_demo_kino", POSTS_PER_CHANNEL=3, PPB_MAX_BONUS_CHANNELS=1,
        BOT_MODE=mode, WEBHOOK_SECRET="bench-secret",
        PPB_BOT_UPDATES_PER_S=1000, PPB_BOT_BURST=1000,  # persons here tap as fast as answers come
    )
    upgrade(settings.async_database_url)
    return settings


async def drive(base: str, persons: int, duration: float, scenario: str) -> Run:
    run = Run()
    limits = httpx.Limits(max_connections=persons * 2 + 4, max_keepalive_connections=persons * 2 + 4)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        run.started = time.perf_counter()
        people = [Person(client, run) for _ in range(persons)]
        await asyncio.gather(*(person.chat_until(run.started + duration, scenario) for person in people))
        run.finished = time.perf_counter()
    return run


async def polling(settings: Settings, persons: int, duration: float, scenario: str, *,
                  over_http: bool = False) -> Run:
    """The bot polling from a process of its own, as the `bot` actor does: calling the core
    in that process (its own database pool), or with `over_http` the API's REST routes."""
    from ppb.compose import http_app

    app = http_app(settings)
    async with serve(app, settings.http_port) as base:
        context = multiprocessing.get_context("spawn")
        ready, stop = context.Event(), context.Event()
        bot = context.Process(target=bot_process, args=(settings, over_http, ready, stop), daemon=True)
        bot.start()
        try:
            if not await asyncio.to_thread(ready.wait, 120):
                raise RuntimeError("the bot process did not start polling")
            return await drive(base, persons, duration, scenario)
        finally:
            stop.set()
            await asyncio.to_thread(bot.join, 30)
            if bot.is_alive():
                bot.kill()
            await app.state.sandbox.close()


def bot_process(settings: Settings, over_http: bool, ready: Any, stop: Any) -> None:
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(_poll(settings, over_http, ready, stop))


async def _poll(settings: Settings, over_http: bool, ready: Any, stop: Any) -> None:
    from ppb.compose import build_bot_app, build_core

    core = None if over_http else build_core(settings, with_scraper=False)
    if core is not None:
        await core.store.connect()
    bot_app = build_bot_app(settings, core=core)
    await bot_app.prepare()
    task = asyncio.create_task(bot_app.dispatcher.start_polling(
        bot_app.bot, handle_signals=False, close_bot_session=False, polling_timeout=5))
    ready.set()
    await asyncio.to_thread(stop.wait)
    await bot_app.dispatcher.stop_polling()
    await task
    await bot_app.close()
    if core is not None:
        await core.store.disconnect()


async def polling_over_http(settings: Settings, persons: int, duration: float, scenario: str) -> Run:
    return await polling(settings, persons, duration, scenario, over_http=True)


async def webhook(settings: Settings, persons: int, duration: float, scenario: str) -> Run:
    from ppb.compose import http_app
    from ppb.http.webhook import register_webhook

    app = http_app(settings)
    async with serve(app, settings.http_port) as base:
        try:
            await register_webhook(settings)
            return await drive(base, persons, duration, scenario)
        finally:
            await app.state.sandbox.close()
            if hasattr(app.state, "webhook_bot"):
                await app.state.webhook_bot.close()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


MODES: dict[str, Callable[..., Any]] = {
    "REST (before)": polling_over_http, "polling": polling, "webhook": webhook,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=40, help="people chatting at once")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per mode and round")
    parser.add_argument("--rounds", type=int, default=1,
                        help="run the modes in turn this many times and add them up (a machine "
                             "whose load drifts then weighs on every mode alike)")
    parser.add_argument("--scenario", choices=("training", "menu"), default="training",
                        help="training: /start, train, then switch languages; menu: /start, then "
                             "\"How it works\" and back (the earlier bench's taps)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    runs: dict[str, Run] = {}
    with tempfile.TemporaryDirectory(prefix="ppb-bench-bot-") as directory:
        # warm up (imports, the embedding, first connections) so the first mode pays no more
        asyncio.run(polling_over_http(settings_for("polling", Path(directory), 99), 2, 2.0, args.scenario))
        for round_ in range(args.rounds):
            for index, (mode, body) in enumerate(MODES.items()):
                settings = settings_for("webhook" if mode == "webhook" else "polling", Path(directory),
                                        10 * round_ + index)
                run = asyncio.run(body(settings, args.persons, args.duration, args.scenario))
                if mode in runs:  # the rounds add up: their updates, and their seconds
                    total = runs[mode]
                    total.latencies += run.latencies
                    total.finished += run.finished - run.started
                else:
                    runs[mode] = run
    print(f"bot end to end through the sandbox ({args.scenario}): {args.persons} persons, "
          f"{args.duration:g} s per mode, {args.rounds} round(s)")
    print(f"{'':14}" + "".join(f"{mode:>15}" for mode in MODES))
    rate = lambda r: len(r.latencies) / (r.finished - r.started)  # noqa: E731
    rows: list[tuple[str, Callable[[Run], float], str]] = [
        ("updates", lambda r: len(r.latencies), "{:15.0f}"),
        ("updates/s", rate, "{:15.1f}"),
        ("p50 ms", lambda r: 1000 * statistics.median(r.latencies), "{:15.1f}"),
        ("p99 ms", lambda r: 1000 * percentile(r.latencies, 0.99), "{:15.1f}"),
    ]
    for name, value, shape in rows:
        print(f"{name:14}" + "".join(shape.format(value(runs[mode])) for mode in MODES))
    before = runs["REST (before)"]
    for mode in ("polling", "webhook"):
        print(f"{mode} / REST: updates/s {rate(runs[mode]) / rate(before):.1f}x, "
              f"p50 {statistics.median(before.latencies) / statistics.median(runs[mode].latencies):.1f}x lower")


if __name__ == "__main__":
    main()
