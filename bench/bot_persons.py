"""People chatting with the bot through the sandbox's person API (what the web chat calls):
the load generator of `bench/bot.py`, in a process of its own, over aiohttp. It imports
nothing of PPB's, so the same persons drive this tree and another checkout alike.

    python bench/bot_persons.py CONFIG_JSON

Prints one JSON line: each update's step and latency (s), the window it ran in, and this process's
CPU seconds. An update's latency runs from the person's message or button press to the
bot's answer showing in the person's view of the chat (read by long polling, as the web
chat reads it). Closed loop: each person taps as soon as the answer shows. Open loop
(`rate`): the persons together tap `rate` times a second on a fixed schedule, and an
update's latency runs from its scheduled time, so a late answer delays and counts.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

Found = Callable[[dict[str, Any]], Any]


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for row in (message.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]


def find(chat: dict[str, Any], text: str, button: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The newest bot message containing `text` with a button labelled with `button`."""
    for message in reversed(chat["messages"]):
        if message["from_bot"] and text in (message.get("text") or ""):
            for candidate in buttons(message):
                if button in candidate["text"]:
                    return message, candidate
    return None


def button_of(message: dict[str, Any], label: str) -> tuple[dict[str, Any], dict[str, Any]]:
    return message, next(b for b in buttons(message) if label in b["text"])


class Person:
    def __init__(self, http: aiohttp.ClientSession, base: str, user_id: int, latencies: list[list[Any]],
                 schedule: Callable[[], float] | None) -> None:
        self.http = http
        self.base = f"{base}/sandbox/api/chats/{user_id}"
        self.user_id = user_id
        self.latencies = latencies
        self.schedule = schedule  # open loop: the next tap's due time (perf_counter)
        self.version = 0

    async def until(self, found: Found, deadline_s: float = 30) -> Any:
        """Long-poll the person's view of the chat until `found` returns something."""
        deadline = time.perf_counter() + deadline_s
        while time.perf_counter() < deadline:
            try:
                async with self.http.get(self.base, params={"after_version": str(self.version)}) as response:
                    response.raise_for_status()
                    chat = await response.json()
            except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError):  # a dropped keep-alive
                continue
            self.version = chat["version"]
            result = found(chat)
            if result:
                return result
        raise RuntimeError(f"person {self.user_id}: no answer within {deadline_s} s")

    async def timed(self, step: str, path: str, body: dict[str, Any], found: Found) -> Any:
        start = time.perf_counter()
        if self.schedule is not None:
            due = self.schedule()
            if due > start:
                await asyncio.sleep(due - start)
            start = due  # a tap sent late (the last answer came late) counts from when it was due
        async with self.http.post(f"{self.base}/{path}", json=body) as response:
            response.raise_for_status()
            await response.read()
        result = await self.until(found)
        self.latencies.append([step, time.perf_counter() - start])
        return result

    def press(self, step: str, message: dict[str, Any], button: dict[str, Any], found: Found) -> Awaitable[Any]:
        body = {"message_id": message["message_id"], "data": button["callback_data"]}
        return self.timed(step, "callbacks", body, found)

    async def chat_until(self, stop_at: float, scenario: str) -> None:
        say = {"text": "/start", "first_name": "Ann", "username": f"u{self.user_id}", "language_code": "en"}
        menu = await self.timed("/start", "messages", say, lambda chat: find(chat, "Hi, Ann", "Start training"))
        if scenario == "menu":
            menu = button_of(menu[0], "How it works")
            while time.perf_counter() < stop_at:
                about = await self.press("how it works", *menu, lambda chat: find(chat, "How it works\n", "Menu"))
                menu = await self.press("menu (read)", *about, lambda chat: find(chat, "Hi, Ann", "How it works"))
            return
        card = await self.press("start training", *menu, lambda chat: find(chat, "Post 1 of", "👍"))
        rated = 0
        while True:
            message, _ = card
            label = "👍" if rated % 2 == 0 else "👎"
            button = next(b for b in buttons(message) if b["text"] == label)
            rated += 1
            card = await self.press("rate", message, button, lambda chat: (
                find(chat, f"Post {rated + 1} of", "👍") or find(chat, "Training complete", "")))
            if "Training complete" in (card[0].get("text") or ""):
                break
        menu = await self.press("menu (read)", *button_of(card[0], "Menu"), lambda chat: find(chat, "Main menu", "Language"))
        while time.perf_counter() < stop_at:
            languages = await self.press("languages", *menu, lambda chat: find(chat, "Choose your language", "English"))
            menu = await self.press("switch language", *languages, lambda chat: find(chat, "Main menu", "Language"))


def schedule_of(start: float, index: int, persons: int, rate: float | None) -> Callable[[], float] | None:
    """Open loop: person `index` of `persons` taps every persons/rate s, the persons spread
    evenly over that interval."""
    if not rate:
        return None
    ticks = itertools.count()
    return lambda: start + (index + persons * next(ticks)) / rate


async def run(config: dict[str, Any]) -> dict[str, Any]:
    latencies: list[list[Any]] = []
    connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=60)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        start = time.perf_counter() + max(0.0, config["start_at"] - time.time())
        total = config.get("persons_total", config["persons"])
        people = [
            Person(http, config["base"], config["first_id"] + i, latencies,
                   schedule_of(start, config.get("first_index", 0) + i, total, config.get("rate")))
            for i in range(config["persons"])
        ]
        await asyncio.sleep(max(0.0, start - time.perf_counter()))
        cpu = time.process_time()
        started = time.time()
        await asyncio.gather(*(p.chat_until(start + config["duration"], config["scenario"]) for p in people))
        return {"latencies": latencies, "started": started, "finished": time.time(),
                "cpu_s": time.process_time() - cpu}


def main() -> None:
    print(json.dumps(asyncio.run(run(json.loads(sys.argv[1])))), flush=True)


if __name__ == "__main__":
    main()
