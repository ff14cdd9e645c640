"""The person's settings in the chat, through the sandbox: cycling choices, typed values
checked by the API (a wrong one explained), /export as a JSON document, and /delete after
a confirmation erasing the person from the store and their chat registry from Redis."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis

from ppb.config import load_settings
from tests.bot_helpers import Harness, buttons, running_bot, wait_for
from tests.ports import free_port
from tests.conftest import REDIS_TEST_URL
from tests.test_bot_flows import train

API_KEY = "test-api-key"


@pytest.fixture(scope="module")
async def harness(sqlite_url: str) -> AsyncIterator[Harness]:
    settings = load_settings(
        DATABASE_URL=sqlite_url, PPB_API_KEY=API_KEY, PPB_HTTP_PORT=free_port(), PPB_DEMO_DATA=True,
        DEFAULT_CHANNELS="@ppb_demo_tech,@ppb_demo_kino", POSTS_PER_CHANNEL=3, REDIS_URL=REDIS_TEST_URL,
    )
    async with running_bot(settings, API_KEY) as running:
        yield running


async def test_settings_change_in_the_chat_and_a_wrong_value_is_explained(harness: Harness, new_id) -> None:
    person = harness.person(new_id())
    await person.say("/start")
    await person.wait_text("Hi, Ann")
    await person.say("/settings")
    screen = await person.wait_text("⚙️ Settings")
    assert "Delivery: live posts and a digest" in screen["text"] and "Ads: shown" in screen["text"]
    assert {"📬 Delivery", "🗞 Digest", "🔇 Muted words", "🚫 Hide ads", "🗑 Delete my data"} <= set(buttons(screen))
    await person.tap("📬 Delivery")
    await person.wait_text("Delivery: live posts only")
    await person.tap("🚫 Hide ads")
    await person.wait_text("Ads: hidden")
    await person.tap("🔇 Muted words")
    await person.wait_text("Send the words to mute")
    await person.say("Crypto, футбол")
    await person.wait_text("Muted words: Crypto, футбол")
    await person.tap("🌍 Time zone")
    await person.wait_text("Send your city or country")
    await person.say("Mars/Olympus")
    wrong = await person.wait_text("I don't know the place “Mars/Olympus”")
    assert "for example Moscow" in wrong["text"] and "Value error" not in wrong["text"]
    await person.say("Moscow")
    await person.wait_text("Time zone: Europe/Moscow")
    await person.tap("🌙 Quiet hours")
    await person.wait_text("Send your quiet hours")
    await person.say("late at night")
    wrong = await person.wait_text("I couldn't read “late at night” as quiet hours")
    assert "for example 23:00-08:00" in wrong["text"] and "HH:MM" not in wrong["text"]
    await person.say("22:30 - 7")
    await person.wait_text("Quiet hours: 22:30–07:00")
    rules = await harness.api("GET", f"/users/{person.user_id}/rules")
    assert rules == {"delivery": "live", "digest": "daily", "digest_time": "09:00", "timezone": "Europe/Moscow",
                     "quiet_start": "22:30", "quiet_end": "07:00", "mute_words": ["Crypto", "футбол"],
                     "hide_ads": True, "must_words": [], "channel_dials": []}


async def test_must_see_words_in_settings_and_a_channel_dial_turned_from_the_channels_menu(
        harness: Harness, new_id) -> None:
    person = harness.person(new_id())
    await train(harness, person)
    await person.say("/settings")
    await person.wait_text("⭐ Must-see words: none")
    await person.tap("⭐ Must-see words")
    await person.wait_text("Send your must-see words")
    await person.say("Release, релиз")
    await person.wait_text("Must-see words: Release, релиз")
    await person.say("/menu")
    await person.tap("My channels")
    listing = await person.wait_text("Tap a channel's dial")
    assert {"⏺ @ppb_demo_kino", "❌ Remove @ppb_demo_kino"} <= set(buttons(listing)), buttons(listing)
    for label, shown in (("⏺", "🔼 more"), ("🔼", "🔽 less"), ("🔽", "🚫 never")):
        await person.tap(f"{label} @ppb_demo_kino")
        await person.wait_text(f"(@ppb_demo_kino) · {shown}")
    rules = await harness.api("GET", f"/users/{person.user_id}/rules")
    assert rules["must_words"] == ["Release", "релиз"]
    assert {(dial["channel"], dial["dial"]) for dial in rules["channel_dials"]} == {
        ("ppb_demo_kino", "never"), ("ppb_demo_tech", "normal")}
    await person.tap("🚫 @ppb_demo_kino")

    async def all_normal() -> bool:
        rules = await harness.api("GET", f"/users/{person.user_id}/rules")
        return {dial["dial"] for dial in rules["channel_dials"]} == {"normal"}

    await wait_for(all_normal, 30, "after never, a tap turns the dial back to normal")


async def test_a_russian_reader_gets_russian_sentences_and_a_place_by_its_russian_name(
        harness: Harness, new_id) -> None:
    person = harness.person(new_id(), "Оля", language_code="ru")
    await person.say("/start")
    await person.wait_text("Привет, Оля")
    await person.say("/settings")
    await person.tap("🕘 Время дайджеста")
    await person.wait_text("Пришли время дайджеста")
    await person.say("утром")
    wrong = await person.wait_text("Не понял время «утром»")
    assert "например 09:00" in wrong["text"]
    await person.say("7.30")
    await person.wait_text("каждый день в 07:30")
    await person.tap("🌍 Часовой пояс")
    await person.wait_text("Пришли свой город или страну")
    await person.say("Россия")
    several = await person.wait_text("несколько часовых поясов")
    assert "«Россия»" in several["text"] and "Москва" in several["text"], several["text"]
    await person.say("Москва")
    await person.wait_text("Часовой пояс: Europe/Moscow")
    await person.tap("🔇 Скрытые слова")
    await person.wait_text("Пришли слова")
    await person.say("x" * 70)
    wrong = await person.wait_text("В каждом скрытом слове")
    assert "64" in wrong["text"] and "characters" not in wrong["text"]
    rules = await harness.api("GET", f"/users/{person.user_id}/rules")
    assert rules["digest_time"] == "07:30" and rules["timezone"] == "Europe/Moscow"


async def test_export_sends_a_json_document_and_delete_erases_after_confirming(harness: Harness, new_id) -> None:
    person = harness.person(new_id())
    await train(harness, person)
    await harness.api("PATCH", f"/users/{person.user_id}/rules", {"mute_words": ["кот"]})
    await person.say("/export")
    sent = await person.wait_text("Your data")
    document = json.loads(sent["document"]["content"])
    assert document["format"] == "ppb-export/1" and document["user"]["telegram_id"] == person.user_id
    assert document["settings"]["mute_words"] == ["кот"]
    assert len(document["ratings"]) == 6 and {r["interaction_type"] for r in document["ratings"]} == {"like", "dislike", "skip"}
    assert {c["username"] for c in document["channels"]} >= {"ppb_demo_tech", "ppb_demo_kino"}
    client = redis.Redis.from_url(REDIS_TEST_URL)
    try:
        assert await client.exists(f"ppb:chat:{person.user_id}"), "the chat's registry is in Redis"
        await person.say("/delete")
        ask = await person.wait_text("Delete everything I keep about you")
        assert "🗑 Yes, delete everything" in buttons(ask)
        exists = await harness.client.get(f"/api/v1/users/{person.user_id}")
        assert exists.status_code == 200, "nothing is erased before the confirmation"
        await person.tap("Yes, delete everything")
        await person.wait_text("everything about you is deleted")
        gone = await harness.client.get(f"/api/v1/users/{person.user_id}")
        assert gone.status_code == 404
        assert not await client.exists(f"ppb:chat:{person.user_id}")
        left = [key async for key in client.scan_iter(match=f"ppb:fsm:*:{person.user_id}:{person.user_id}:*")]
        assert left == []
    finally:
        await client.aclose()
