"""Delivery end to end in the sandbox: the real app and bot, the deliverer and the outbox in
this loop. A person who likes one topic gets a live push (link preview of the public post,
rating buttons) within seconds of posts/bulk for an on-topic post and none for an
off-topic one, which comes in the digest instead, rateable there."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from ppb.actors.delivery import Deliverer
from ppb.actors.outbox import Outbox, Pace
from ppb.bot.app import build_bot
from ppb.bot.i18n import build_i18n
from ppb.bot.outbox_sender import BotOutboxSender
from ppb.compose.bot import build_registry
from ppb.compose.parts import caps
from ppb.config import load_settings
from ppb.core import rules as core_rules
from ppb.core.scoring import Scoring
from ppb.store.migrate import upgrade_async
from ppb.store.queries import Store
from tests.bot_helpers import Harness, buttons, running_bot, wait_for
from tests.ports import free_port
from tests.test_delivery import FOOD, TECH

API_KEY = "test-api-key"


@pytest.fixture(scope="module")
async def harness(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Harness]:
    database_url = f"sqlite:///{tmp_path_factory.mktemp('delivery') / 'ppb.db'}"
    await upgrade_async(load_settings(DATABASE_URL=database_url).async_database_url)
    settings = load_settings(DATABASE_URL=database_url, PPB_API_KEY=API_KEY, PPB_HTTP_PORT=free_port(),
                             PPB_DEMO_DATA=False, DEFAULT_CHANNELS="@nothing_here")
    async with running_bot(settings, API_KEY) as running:
        yield running


async def test_an_on_topic_post_is_pushed_within_seconds_and_an_off_topic_one_comes_in_the_digest(
        harness: Harness, new_id) -> None:
    person = harness.person(new_id())
    await person.say("/start")  # a bot may only write to people who wrote to it first
    await person.find_button("Start training")
    channel_id = -1000000000000 - new_id()
    username = f"deliv{channel_id % 10**9}"
    await harness.api("POST", "/channels/", {"telegram_id": channel_id, "username": username, "title": "Dev & Food"})
    old = datetime.now(UTC) - timedelta(days=3)
    ids = (await harness.api("POST", "/posts/bulk", {"channel_telegram_id": channel_id, "posts": [
        {"telegram_message_id": i + 1, "text": text, "media_type": "text", "posted_at": (old + timedelta(minutes=i)).isoformat()}
        for i, text in enumerate(TECH + FOOD)]}))["post_ids"]
    await harness.api("POST", f"/users/{person.user_id}/training", {"channels": [f"@{username}"], "posts_per_channel": 20})
    for post_id, text in zip(ids, TECH + FOOD):
        await harness.api("POST", "/posts/interactions", {"user_telegram_id": person.user_id, "post_id": post_id,
                                                          "interaction_type": "like" if text in TECH else "dislike"})
    await harness.api("PATCH", f"/users/{person.user_id}/rules", {"quiet_start": None, "quiet_end": None})

    settings = harness.settings
    store = Store(settings.async_database_url)
    await store.connect()
    bot = build_bot(settings, harness.base, wait_out_floods=False)
    sender = BotOutboxSender(bot, build_registry(settings), build_i18n())
    outbox = Outbox(store, sender, Pace(rate=30, per_chat_s=1.0, idle_s=0.1))
    ahead = {"by": timedelta(0)}  # the deliverer's clock, moved forward to the digest time below
    deliverer = Deliverer(store, Scoring.from_settings(store, settings), caps(settings),
                          clock=lambda: datetime.now(UTC) + ahead["by"])
    tasks = [asyncio.create_task(outbox.run()), asyncio.create_task(deliverer.run(0.2, 3600))]
    try:
        before = len(await person.bot_messages())
        tech, food = (await harness.api("POST", "/posts/bulk", {"channel_telegram_id": channel_id, "posts": [
            {"telegram_message_id": 100, "text": "Go 1.22 released: a faster compiler, better tooling and new features for developers",
             "media_type": "photo", "posted_at": datetime.now(UTC).isoformat()},
            {"telegram_message_id": 101, "text": "Recipe: a chocolate cake with butter, flour, eggs and cocoa baked in the oven",
             "media_type": "text", "posted_at": datetime.now(UTC).isoformat()},
        ]}))["post_ids"]
        push = await person.wait_text("Go 1.22 released", deadline_s=20)
        assert push["text"].startswith("🔔 Dev & Food") and "📷 Photo" in push["text"]
        assert push["link_preview"]["url"] == f"https://t.me/{username}/100", "the public post's own preview"
        assert {"👍", "👎"} <= set(buttons(push))
        await person.press(push["message_id"], push["reply_markup"]["inline_keyboard"][0][0]["callback_data"])
        await wait_for(lambda: _rated(harness, person.user_id, tech, "like"), 15, "the push's 👍 stored")
        texts = [m["text"] or "" for m in (await person.bot_messages())[before:]]
        assert not any("chocolate cake" in text for text in texts), "off-topic: not pushed"

        user_id = await store.user_id(person.user_id)
        digest_at = (datetime.now(UTC) + timedelta(minutes=2)).replace(second=0, microsecond=0)
        await core_rules.update(store, user_id, {"digest_time": digest_at.time()})
        assert (await deliverer.digests()).queued == 0, "the first digest waits for its time"
        ahead["by"] = digest_at - datetime.now(UTC) + timedelta(seconds=1)
        report = await deliverer.digests()
        assert report.queued == 1 and report.posts == 1
        digest = await person.wait_text("Your digest: 1 new post for you", deadline_s=20)
        assert "chocolate cake" in digest["text"] and "Go 1.22" not in digest["text"]
        assert f"https://t.me/{username}/101" in str(digest["entities"]) or username in digest["text"]
        assert buttons(digest) == ["1 👍", "1 👎", "1 ❓"]
        await person.press(digest["message_id"], digest["reply_markup"]["inline_keyboard"][0][0]["callback_data"])
        await wait_for(lambda: _rated(harness, person.user_id, food, "like"), 15, "the digest's 👍 stored")

        async def ticked() -> bool:
            message = next(m for m in await person.bot_messages() if m["message_id"] == digest["message_id"])
            return buttons(message) == ["1 👍 ✓", "1 👎", "1 ❓"]

        await wait_for(ticked, 15, "the digest's chosen rating ticked")
        await person.press(digest["message_id"], digest["reply_markup"]["inline_keyboard"][0][2]["callback_data"])

        async def answered() -> dict | None:
            return next((a for a in (await person.chat())["answers"] if a["show_alert"]), None)

        why = await wait_for(answered, 15, "the digest entry's why answered")
        assert why["text"].startswith(("Why this post:", "Nothing stood out")), why
        assert await ticked(), "the why left the digest's buttons as they were"
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await outbox.stop()
        await bot.session.close()
        await store.disconnect()


async def _rated(harness: Harness, telegram_id: int, post_id: int, kind: str) -> bool:
    ratings = (await harness.api("GET", f"/posts/interactions/{telegram_id}"))["interactions"]
    return any(r["post_id"] == post_id and r["interaction_type"] == kind for r in ratings)
