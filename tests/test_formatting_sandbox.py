"""A post's formatting end to end in the sandbox: the real app and bot, the deliverer and the
outbox in this loop. A post with bold, a text link, an emoji before an entity (UTF-16
offsets) and `<`/`&` in its text arrives by posts/bulk, by `ppb import` and by the scraper,
is pushed live to a person trained on its channel, and the person's chat shows the same
text with the same entities where Telegram would put them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from telethon.tl import types

from ppb.actors.delivery import Deliverer
from ppb.actors.outbox import Outbox, Pace
from ppb.bot.app import build_bot
from ppb.bot.i18n import build_i18n
from ppb.bot.outbox_sender import BotOutboxSender
from ppb.compose.bot import build_registry
from ppb.compose.parts import caps
from ppb.config import load_settings
from ppb.core.scoring import Scoring
from ppb.domain.formatting import units
from ppb.scraper.importer import import_file
from ppb.scraper.session import Scraper
from ppb.store.migrate import upgrade_async
from ppb.store.queries import Store
from tests.bot_helpers import Harness, Person, running_bot
from tests.ports import free_port
from tests.telegram_stand import TelegramStand, scraper_clients
from tests.test_delivery import FOOD, TECH

API_KEY = "test-api-key"
TEXT = "🚀 Go 1.22 released: a <faster> compiler & better tooling for developers"
BOLD = "Go 1.22 released"
LINK = "tooling"
URL = "https://go.dev/doc/go1.22?from=ppb&x=1"


@dataclass
class Delivery:
    harness: Harness
    store: Store


@pytest.fixture(scope="module")
async def delivery(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Delivery]:
    database_url = f"sqlite:///{tmp_path_factory.mktemp('formatting') / 'ppb.db'}"
    await upgrade_async(load_settings(DATABASE_URL=database_url).async_database_url)
    settings = load_settings(DATABASE_URL=database_url, PPB_API_KEY=API_KEY, PPB_HTTP_PORT=free_port(),
                             PPB_DEMO_DATA=False, DEFAULT_CHANNELS="@nothing_here")
    async with running_bot(settings, API_KEY) as harness:
        store = Store(settings.async_database_url)
        await store.connect()
        bot = build_bot(settings, harness.base, wait_out_floods=False)
        outbox = Outbox(store, BotOutboxSender(bot, build_registry(settings), build_i18n()),
                        Pace(rate=30, per_chat_s=1.0, idle_s=0.1))
        deliverer = Deliverer(store, Scoring.from_settings(store, settings), caps(settings))
        tasks = [asyncio.create_task(outbox.run()), asyncio.create_task(deliverer.run(0.2, 3600))]
        try:
            yield Delivery(harness, store)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await outbox.stop()
            await bot.session.close()
            await store.disconnect()


def span(text: str, fragment: str) -> tuple[int, int]:
    """(offset, length) of `fragment` in `text`, in UTF-16 code units as Telegram counts."""
    return units(text[: text.index(fragment)]), units(fragment)


async def trained_follower(harness: Harness, new_id, channel_id: int, username: str) -> Person:
    """A person who likes the channel's tech posts and dislikes its recipes, trained, no quiet hours."""
    person = harness.person(new_id())
    await person.say("/start")  # a bot may only write to people who wrote to it first
    await person.find_button("Start training")
    await harness.api("POST", "/channels/", {"telegram_id": channel_id, "username": username, "title": "Dev <&> Food"})
    old = datetime.now(UTC) - timedelta(days=3)
    ids = (await harness.api("POST", "/posts/bulk", {"channel_telegram_id": channel_id, "posts": [
        {"telegram_message_id": i + 1, "text": text, "posted_at": (old + timedelta(minutes=i)).isoformat()}
        for i, text in enumerate(TECH + FOOD)]}))["post_ids"]
    await harness.api("POST", f"/users/{person.user_id}/training", {"channels": [f"@{username}"], "posts_per_channel": 20})
    for post_id, text in zip(ids, TECH + FOOD):
        await harness.api("POST", "/posts/interactions", {"user_telegram_id": person.user_id, "post_id": post_id,
                                                          "interaction_type": "like" if text in TECH else "dislike"})
    await harness.api("PATCH", f"/users/{person.user_id}/rules", {"quiet_start": None, "quiet_end": None})
    return person


def assert_shown_formatted(push: dict[str, Any]) -> None:
    """The push shows TEXT as sent, bold and the link where they were, the title bold too."""
    shown = push["text"]
    assert shown.startswith("🔔 Dev <&> Food\n\n") and TEXT in shown, shown
    start = units(shown[: shown.index(TEXT)])
    bold, link = span(TEXT, BOLD), span(TEXT, LINK)
    assert {"type": "bold", "offset": units("🔔 "), "length": units("Dev <&> Food")} in push["entities"]
    assert {"type": "bold", "offset": start + bold[0], "length": bold[1]} in push["entities"]
    assert {"type": "text_link", "offset": start + link[0], "length": link[1], "url": URL} in push["entities"]
    assert len(push["entities"]) == 3, push["entities"]


async def test_a_bulk_post_with_entities_is_pushed_with_its_formatting(delivery: Delivery, new_id) -> None:
    channel_id = -1000000000000 - new_id()
    username = f"fmtbulk{channel_id % 10**9}"
    person = await trained_follower(delivery.harness, new_id, channel_id, username)
    (bold_at, bold_len), (link_at, link_len) = span(TEXT, BOLD), span(TEXT, LINK)
    await delivery.harness.api("POST", "/posts/bulk", {"channel_telegram_id": channel_id, "posts": [
        {"telegram_message_id": 100, "text": TEXT, "posted_at": datetime.now(UTC).isoformat(), "entities": [
            {"type": "bold", "offset": bold_at, "length": bold_len},
            {"type": "text_link", "offset": link_at, "length": link_len, "url": URL}]}]})
    assert_shown_formatted(await person.wait_text("Go 1.22 released", deadline_s=20))


async def test_an_imported_post_is_pushed_with_its_formatting(delivery: Delivery, new_id, tmp_path: Path) -> None:
    bare = new_id()
    channel_id = -(10**12 + bare)
    username = f"fmtimport{bare % 10**9}"
    person = await trained_follower(delivery.harness, new_id, channel_id, username)
    before, after = TEXT.split(BOLD)
    middle, end = after.split(LINK)
    message = {"id": 100, "type": "message", "date_unixtime": str(int(datetime.now(UTC).timestamp())),
               "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
               "text": [before, {"type": "bold", "text": BOLD}, middle,
                        {"type": "text_link", "text": LINK, "href": URL}, end]}
    path = tmp_path / "result.json"
    path.write_text(json.dumps({"name": "Dev <&> Food", "type": "public_channel", "id": bare, "messages": [message]},
                               ensure_ascii=False))
    results, _ = await import_file(delivery.store, path)
    assert results[0].created == 1 and results[0].channel["username"] == username
    assert_shown_formatted(await person.wait_text("Go 1.22 released", deadline_s=20))


async def test_a_scraped_post_is_pushed_with_its_formatting(delivery: Delivery, new_id) -> None:
    bare = new_id()
    channel_id = -(10**12 + bare)
    username = f"fmtscrape{bare % 10**9}"
    person = await trained_follower(delivery.harness, new_id, channel_id, username)
    stand = TelegramStand()
    channel = stand.add_channel(username, "Dev <&> Food", bare_id=bare)
    (bold_at, bold_len), (link_at, link_len) = span(TEXT, BOLD), span(TEXT, LINK)
    stand.post(channel, TEXT, message_id=100, date=datetime.now(UTC), entities=[  # just published: live
        types.MessageEntityBold(offset=bold_at, length=bold_len),
        types.MessageEntityTextUrl(offset=link_at, length=link_len, url=URL)])
    scraper = Scraper(delivery.store, scraper_clients(stand, stand.session_string()), name="formatting")
    try:
        answer = await scraper.scrape(f"@{username}", 1)
    finally:
        await scraper.close()
    assert answer["created_count"] == 1
    assert_shown_formatted(await person.wait_text("Go 1.22 released", deadline_s=20))
