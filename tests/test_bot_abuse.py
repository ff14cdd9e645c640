"""Abuse through the bot: a flood is throttled per person (told once, politely), the bonus
limit is checked before the scraper joins anything, and the scraper watches a bounded set."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from ppb.bot.throttle import Throttle
from ppb.compose.bot import build_bot_app
from ppb.compose.core import build_services
from ppb.compose.web import http_app as build_app
from ppb.config import Settings, load_settings
from ppb.http.services import Services
from ppb.scraper.client import LocalScraperClient
from ppb.scraper.errors import TooManyChannels
from ppb.scraper.session import Scraper
from tests.bot_helpers import Harness, serve
from tests.ports import free_port
from tests.conftest import API_KEY
from tests.telegram_stand import TelegramStand, scraper_clients

def test_the_bucket_passes_a_burst_then_tells_once_then_drops_until_the_cool_down_ends() -> None:
    throttle = Throttle(rate=1.0, burst=3, cooldown=10.0)
    assert [throttle.admit(7, 0.0) for _ in range(3)] == ["pass"] * 3
    assert throttle.admit(7, 0.1) == "tell"
    assert [throttle.admit(7, t) for t in (0.2, 5.0, 10.0)] == ["drop"] * 3
    assert throttle.admit(8, 0.2) == "pass"  # per person
    assert [throttle.admit(7, 10.2) for _ in range(3)] == ["pass"] * 3  # a fresh start after it
    assert throttle.admit(7, 10.3) == "tell"


async def say_and_handle(rig: Harness, person, *texts: str) -> None:
    """The person sends the texts through the sandbox; the bot handles them one by one, in
    order (fed as polling would, so the test needs no waiting to know all were handled)."""
    ids = {await _update_of(person, text) for text in texts}
    updates = [update for update in rig.emulator.pending if update["update_id"] in ids]
    rig.emulator.pending = [update for update in rig.emulator.pending if update["update_id"] not in ids]
    for update in updates:
        await rig.bot_app.dispatcher.feed_raw_update(rig.bot_app.bot, update)


async def _update_of(person, text: str) -> int:
    response = await person.client.post(
        f"/sandbox/api/chats/{person.user_id}/messages",
        json={"text": text, "first_name": person.first_name, "language_code": person.language_code},
    )
    response.raise_for_status()
    return int(response.json()["update_id"])


@pytest.fixture
async def rig(sqlite_url: str) -> AsyncIterator[Harness]:
    """The app and its sandbox served for real; the bot fed updates one at a time."""
    stand = TelegramStand()
    settings = load_settings(
        DATABASE_URL=sqlite_url, PPB_API_KEY=API_KEY, PPB_HTTP_PORT=free_port(), PPB_DEMO_DATA=False,
        PPB_BOT_BURST=2, PPB_BOT_UPDATES_PER_S=0.001, PPB_BOT_COOLDOWN=600, PPB_MAX_BONUS_CHANNELS=0,
    )
    services = build_services(settings)
    scraper = Scraper(services.store, scraper_clients(stand, stand.session_string()), name="abuse-test")
    app = build_app(settings, services.with_scraper(LocalScraperClient(scraper)))
    async with serve(app, settings.http_port) as base, httpx.AsyncClient(
        base_url=base, headers={"X-API-Key": API_KEY}, timeout=30
    ) as client:
        bot_app = build_bot_app(settings, core=app.state.services.core, retry_outage_s=15.0)
        harness = Harness(base, settings, app, bot_app, client)
        harness.stand = stand  # type: ignore[attr-defined]
        try:
            yield harness
        finally:
            await bot_app.close()
            await scraper.close()
            await app.state.sandbox.close()


@pytest.mark.parametrize(("language", "polite"), [("en", "too fast"), ("ru", "слишком быстро")])
async def test_a_flood_gets_one_polite_reply_and_costs_nothing(rig: Harness, new_id, language: str, polite: str) -> None:
    person = rig.person(new_id(), language_code=language)
    await say_and_handle(rig, person, *["/start"] * 8)
    texts = [m["text"] or "" for m in await person.bot_messages()]
    assert sum(polite in text for text in texts) == 1, texts
    assert any("600" in text for text in texts if polite in text)
    menus = [text for text in texts if polite not in text]
    assert len(menus) == 1, texts  # two updates passed; /start twice edits the one menu


async def test_the_flood_notice_speaks_the_language_the_person_chose(rig: Harness, new_id) -> None:
    """Telegram says English, the person chose Russian (stored in their profile): Russian."""
    person = rig.person(new_id(), language_code="en")
    await rig.api("POST", "/users/", {"telegram_id": person.user_id, "first_name": "Ann", "language": "ru"})
    await say_and_handle(rig, person, *["/start"] * 5)
    texts = [m["text"] or "" for m in await person.bot_messages()]
    assert sum("слишком быстро" in text for text in texts) == 1, texts
    assert not any("too fast" in text for text in texts), texts


async def test_the_bonus_limit_is_checked_before_the_scraper_joins(rig: Harness, new_id) -> None:
    stand: TelegramStand = rig.stand  # type: ignore[attr-defined]
    bare = new_id()
    stand.add_channel(f"spam{bare}", f"Spam {bare}", bare_id=bare)
    person = rig.person(new_id())
    await rig.api("POST", "/users/", {"telegram_id": person.user_id, "first_name": "Ann"})
    for event in ("start", "start_training", "complete_training"):
        await rig.api("POST", f"/users/{person.user_id}/events", {"event": event})
    await say_and_handle(rig, person, f"@spam{bare}")
    await person.wait_text("You already have 0 bonus channels")
    assert stand.calls["channels.JoinChannel"] == 0 and stand.calls["contacts.ResolveUsername"] == 0


async def test_the_scraper_watches_at_most_its_limit(settings: Settings, services: Services, new_id) -> None:
    stand = TelegramStand()
    names = []
    for _ in range(3):
        bare = new_id()
        names.append(f"@capped{bare}")
        stand.add_channel(names[-1][1:], f"Capped {bare}", bare_id=bare)
    scraper = Scraper(services.store, scraper_clients(stand, stand.session_string()), name="cap-test", max_channels=2)
    try:
        assert (await scraper.join(names[0]))["status"] == "joined"
        assert (await scraper.join(names[1]))["status"] == "joined"
        with pytest.raises(TooManyChannels, match="PPB_SCRAPER_MAX_CHANNELS"):
            await scraper.join(names[2])
        assert stand.calls["channels.JoinChannel"] == 2
        assert (await scraper.join(names[0]))["status"] == "already_joined"  # a watched one still answers
    finally:
        await scraper.close()
