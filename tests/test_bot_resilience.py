"""The bot under trouble: Telegram's flood control and outages (injected in the emulator),
the API out of reach, Telegram's edit and delete rules met by the MessageManager."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from starlette.applications import Starlette

from ppb.actors.chat_shard import ChatShard
from ppb.actors.chat_state import MemoryChatState
from ppb.bot.api import HttpPpb
from ppb.bot.messages import GONE, MessageManager
from ppb.compose.bot import build_bot_app
from ppb.config import load_settings
from ppb.domain.messages import MessageType
from ppb.sandbox.emulator import Emulator
from ppb.sandbox.routes import mount_sandbox
from tests.bot_helpers import Harness, Person, buttons, running_bot, serve, wait_for
from tests.ports import free_port

API_KEY = "test-api-key"


@pytest.fixture(scope="module")
async def harness(sqlite_url: str) -> AsyncIterator[Harness]:
    settings = load_settings(DATABASE_URL=sqlite_url, PPB_API_KEY=API_KEY, PPB_HTTP_PORT=free_port(),
                             DEFAULT_CHANNELS="@ppb_demo_tech", POSTS_PER_CHANNEL=2)
    async with running_bot(settings, API_KEY) as running:
        yield running


@pytest.fixture(autouse=True)
async def no_faults(harness: Harness) -> AsyncIterator[None]:
    yield
    harness.emulator.clear_faults()


async def one_menu(person: Person, fragment: str) -> None:
    async def alone() -> bool:
        chat = await person.bot_messages()
        return len(chat) == 1 and fragment in (chat[0]["text"] or "")

    await wait_for(alone, 20, f"exactly one message, the menu with {fragment!r}")


async def test_flood_control_is_waited_out_and_nothing_is_sent_twice(harness: Harness, new_id) -> None:
    person = harness.person(new_id())
    sends = harness.emulator.calls["sendMessage"]
    harness.emulator.inject("sendMessage", 429, retry_after=1, count=2)
    await person.say("/start")
    await one_menu(person, "Hi, Ann")
    assert harness.emulator.calls["sendMessage"] - sends == 3, "two refusals, then the one message"
    harness.emulator.inject("editMessageText", 429, retry_after=1, count=1)
    await person.tap("How it works")
    await one_menu(person, "How it works")


async def test_an_outage_delays_updates_and_loses_none(harness: Harness, new_id) -> None:
    person = harness.person(new_id())
    harness.emulator.outage = True
    refused = harness.emulator.calls["getUpdates"]
    await person.say("/start")

    async def polls_refused() -> bool:
        return harness.emulator.calls["getUpdates"] >= refused + 2

    await wait_for(polls_refused, 20, "the bot to keep polling through the outage")
    assert await person.bot_messages() == []
    harness.emulator.outage = False
    await one_menu(person, "Hi, Ann")


async def test_server_errors_on_send_are_retried(harness: Harness, new_id) -> None:
    person = harness.person(new_id())
    harness.emulator.inject("sendMessage", 502, count=3)
    await person.say("/start")
    await one_menu(person, "Hi, Ann")


@pytest.fixture(scope="module")
async def no_api(sqlite_url: str) -> AsyncIterator[tuple[Emulator, Person, Bot]]:
    """The sandbox alone, and a bot whose API address answers nothing."""
    import httpx

    settings = load_settings(DATABASE_URL=sqlite_url, PPB_API_KEY=API_KEY, PPB_HTTP_PORT=free_port())
    app = Starlette()
    emulator = mount_sandbox(app, settings)
    dead = HttpPpb(f"http://127.0.0.1:{free_port()}", API_KEY)
    async with serve(app, settings.http_port) as base, httpx.AsyncClient(base_url=base) as client:
        bot_app = build_bot_app(settings, api=dead)
        polling = asyncio.create_task(bot_app.dispatcher.start_polling(
            bot_app.bot, handle_signals=False, close_bot_session=False, polling_timeout=5))
        yield emulator, Person(client, 4242), bot_app.bot
        await bot_app.dispatcher.stop_polling()
        await polling
        await bot_app.close()
        await emulator.close()


async def test_the_api_out_of_reach_gets_an_apology_not_silence(no_api: tuple[Emulator, Person, Bot]) -> None:
    _, person, _ = no_api
    await person.say("/start")
    apology = await person.wait_text("PPB is having trouble right now")
    assert "Traceback" not in apology["text"] and buttons(apology) == []


@pytest.fixture
async def manager(no_api: tuple[Emulator, Person, Bot], new_id) -> tuple[MessageManager, Emulator, Person]:
    """A MessageManager on the bot's real session, for a person of its own."""
    emulator, person, bot = no_api
    own = Person(person.client, new_id())
    emulator.person_chat(own.user_id, "Ann")  # the chat exists; no update for the polling bot
    return MessageManager(bot, ChatShard(MemoryChatState())), emulator, own


async def test_the_menu_is_edited_in_place_and_unchanged_edits_are_quiet(manager) -> None:
    messages, _, person = manager
    first = await messages.send_system(person.user_id, "Menu")
    assert await messages.send_system(person.user_id, "Menu") == first, "not modified: quiet"
    assert await messages.send_system(person.user_id, "Menu two") == first
    await messages.send_onetime(person.user_id, "a post")
    moved = await messages.send_system(person.user_id, "Menu three", at_bottom=True)
    assert moved != first
    texts = [m["text"] for m in await person.bot_messages()]
    assert texts == ["a post", "Menu three"]
    await messages.bot.delete_message(person.user_id, moved)  # gone behind the manager's back
    again = await messages.send_system(person.user_id, "Menu four")
    assert again != moved and [m["text"] for m in await person.bot_messages()] == ["a post", "Menu four"]


async def test_prompts_vanish_and_those_past_48_hours_are_blanked(manager) -> None:
    messages, emulator, person = manager
    await messages.send_ephemeral(person.user_id, "young prompt")
    await messages.clear_ephemeral(person.user_id)
    assert "young prompt" not in [m["text"] for m in await person.bot_messages()]
    await messages.send_ephemeral(person.user_id, "old prompt")
    real = emulator.clock
    later = lambda: real() + 49 * 3600  # noqa: E731
    emulator.clock, messages.clock = later, later
    try:
        await messages.clear_ephemeral(person.user_id)
    finally:
        emulator.clock, messages.clock = real, real
    texts = [m["text"] for m in await person.bot_messages()]
    assert "old prompt" not in texts and GONE in texts
    assert await messages.registry.get_messages(person.user_id, MessageType.EPHEMERAL) == []


async def test_auto_delete_after(manager) -> None:
    messages, _, person = manager
    await messages.send_ephemeral(person.user_id, "short-lived", auto_delete_after=0.2)

    async def gone() -> bool:
        return "short-lived" not in [m["text"] for m in await person.bot_messages()]

    await wait_for(gone, 5, "the prompt to delete itself")
