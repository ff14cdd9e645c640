"""One stored language (`users.language`), one fallback rule (`ppb.domain.languages`), read by
every path: the chat (also after a restart without Redis), pushes, nudges, digests, the flood
notice and the Mini App. A Ukrainian reader gets Russian everywhere."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import pytest

from ppb.actors.outbox import Outbox, Pace
from ppb.bot.app import build_bot
from ppb.bot.i18n import build_i18n
from ppb.bot.outbox_sender import BotOutboxSender
from ppb.compose.bot import build_registry
from ppb.compose.web import http_app
from ppb.config import load_settings, sandbox_bot_token
from ppb.domain.init_data import sign_init_data
from ppb.store.queries import Store
from tests.bot_helpers import Harness, Person, polling_bot, running_bot, serve, wait_for
from tests.ports import free_port

API_KEY = "test-api-key"
POST = {"id": 1, "text": "Кот спит на солнце", "html": None, "channel_title": "Cats", "channel_username": "cats",
        "telegram_message_id": 7, "media_type": "photo"}


@pytest.fixture(scope="module")
async def harness(sqlite_url: str) -> AsyncIterator[Harness]:
    settings = load_settings(DATABASE_URL=sqlite_url, PPB_API_KEY=API_KEY, PPB_HTTP_PORT=free_port(),
                             PPB_DEMO_DATA=True, DEFAULT_CHANNELS="@ppb_demo_tech", POSTS_PER_CHANNEL=3)
    assert not settings.redis_url, "the restart below is one without Redis"
    async with running_bot(settings, API_KEY) as running:
        yield running


async def test_the_chosen_language_survives_a_restart_without_redis(sqlite_url: str, new_id) -> None:
    settings = load_settings(DATABASE_URL=sqlite_url, PPB_API_KEY=API_KEY, PPB_HTTP_PORT=free_port(),
                             PPB_DEMO_DATA=True, DEFAULT_CHANNELS="@ppb_demo_tech", POSTS_PER_CHANNEL=3)
    assert not settings.redis_url, "a restart without Redis: the bot keeps nothing of its own"
    app = http_app(settings)
    async with serve(app, settings.http_port) as base, httpx.AsyncClient(base_url=base, timeout=30) as client:
        person = Person(client, new_id(), language_code="en")
        core = app.state.services.core
        try:
            async with polling_bot(settings, core):
                await person.say("/start")
                await person.wait_text("Hi, Ann")
                await person.tap("🇷🇺 Русский")
                await person.wait_text("Привет, Ann")
            async with polling_bot(settings, core):  # the bot started again
                before = await bot_texts(person)
                await person.say("/start")
                after = await wait_for(lambda: _changed(person, before), 30, "an answer to /start")
                assert any("Привет, Ann" in text for text in after.values()), after
                assert not any("Hi, Ann" in text for text in after.values()), after
        finally:
            await app.state.sandbox.close()


async def test_a_ukrainian_reader_gets_russian_in_the_chat_pushes_nudges_digests_and_the_mini_app(
        harness: Harness, new_id) -> None:
    person = harness.person(new_id(), first_name="Оля", language_code="uk")
    await person.say("/start")
    await person.wait_text("Привет, Оля")
    await person.say("/help")
    await person.wait_text("Помощь")
    user = await harness.api("GET", f"/users/{person.user_id}")
    assert user["language"] == "uk", "the reader's language is stored, for the paths with no Telegram user"

    settings = harness.settings
    store = Store(settings.async_database_url)
    await store.connect()
    bot = build_bot(settings, harness.base, wait_out_floods=False)
    outbox = Outbox(store, BotOutboxSender(bot, build_registry(settings), build_i18n()), Pace(per_chat_s=0.0))
    try:
        user_id = await store.user_id(person.user_id)
        await store.enqueue([
            {"user_id": user_id, "chat_id": person.user_id, "kind": "push", "payload": {"post": POST}},
            {"user_id": user_id, "chat_id": person.user_id, "kind": "nudge", "payload": {"post": POST}},
            {"user_id": user_id, "chat_id": person.user_id, "kind": "digest", "payload": {"posts": [POST]}},
        ])
        await outbox.drain(30)
    finally:
        await bot.session.close()
        await store.disconnect()
    push = await person.wait_text("🔔 Cats")
    assert "📷 Фото" in push["text"], push["text"]
    await person.wait_text("Пока тебя не было")
    await person.wait_text("Твой дайджест: 1 новый пост для тебя")

    init_data = sign_init_data(sandbox_bot_token(settings), {"id": person.user_id, "first_name": "Оля",
                                                             "language_code": "uk"}, auth_date=int(time.time()))
    response = await harness.client.get("/api/v1/miniapp/me", headers={"Authorization": f"tma {init_data}"})
    assert response.status_code == 200 and response.json()["ui_language"] == "ru"


async def test_a_stored_choice_wins_over_telegrams_language_in_every_path(harness: Harness, new_id) -> None:
    """Telegram says Ukrainian, the person chose English: English in the chat and the outbox."""
    person = harness.person(new_id(), language_code="uk")
    await harness.api("POST", "/users/", {"telegram_id": person.user_id, "first_name": "Ann", "language": "en"})
    await person.say("/start")
    await person.wait_text("Hi, Ann")
    await wait_for(lambda: _language(harness, person.user_id, "en"), 5, "the choice kept")


async def _language(harness: Harness, telegram_id: int, expected: str) -> bool:
    return (await harness.api("GET", f"/users/{telegram_id}"))["language"] == expected


async def bot_texts(person: Person) -> dict[int, str]:
    return {m["message_id"]: m["text"] or "" for m in await person.bot_messages()}


async def _changed(person: Person, before: dict[int, str]) -> dict[int, str] | None:
    now = await bot_texts(person)
    return now if now != before else None


def test_the_mini_apps_first_guess_follows_the_same_rule() -> None:
    """Before `/me` answers, the Mini App guesses from Telegram's code with the same list."""
    import re
    from pathlib import Path

    from ppb.domain.languages import READS_RUSSIAN

    source = (Path(__file__).resolve().parent.parent / "ppb" / "miniapp" / "i18n.js").read_text()
    listed = re.search(r"READS_RUSSIAN = \[([^\]]*)\]", source)
    assert listed is not None
    assert tuple(re.findall(r'"(\w+)"', listed.group(1))) == READS_RUSSIAN
