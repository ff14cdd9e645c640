"""`POST /api/v1/cmd/scrape` and `/cmd/join` through the real app, the scraper in process."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest

from ppb.compose.web import http_app as build_app
from ppb.config import Settings
from ppb.http.services import Services
from ppb.scraper.client import LocalScraperClient
from ppb.scraper.session import Scraper
from tests.conftest import API_KEY
from tests.telegram_stand import TelegramStand, photo, scraper_clients


@dataclasses.dataclass
class Rig:
    api: httpx.AsyncClient
    stand: TelegramStand
    session: str
    gate: asyncio.Event


@pytest.fixture
async def rig(settings: Settings, services: Services) -> AsyncIterator[Rig]:
    stand = TelegramStand()
    session = stand.session_string()
    gate = asyncio.Event()

    async def sleep(seconds: float) -> None:
        await gate.wait()

    scraper = Scraper(services.store, scraper_clients(stand, session), name="api-test", sleep=sleep)
    app = build_app(settings, services.with_scraper(LocalScraperClient(scraper)))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://127.0.0.1", headers={"X-API-Key": API_KEY}
    ) as client:
        yield Rig(client, stand, session, gate)
    gate.set()
    await scraper.close()


def add_channel(stand: TelegramStand, new_id, posts: int = 5):
    bare = new_id()
    channel = stand.add_channel(f"news{bare}", f"News {bare}", bare_id=bare)
    for number in range(1, posts + 1):
        stand.post(channel, f"story {number} about harbour cranes and tides number {number * 7}")
    return channel


async def test_scrape_then_train_on_the_posts(rig: Rig, new_id) -> None:
    channel = add_channel(rig.stand, new_id, posts=9)
    rig.stand.post(channel, "", media=photo())
    response = await rig.api.post("/api/v1/cmd/scrape", json={"channel_username": f"@{channel.username}", "limit": 4})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok" and body["posts_count"] == 4 and body["created_count"] == 4
    assert body["channel"]["telegram_id"] == -(10**12 + channel.id)
    assert body["channel"]["username"] == channel.username

    user = new_id()
    assert (await rig.api.post("/api/v1/users/", json={"telegram_id": user})).status_code == 201
    training = await rig.api.post(
        "/api/v1/posts/training",
        json={"user_telegram_id": user, "channel_usernames": [channel.username.upper()], "posts_per_channel": 7},
    )
    assert training.status_code == 200, training.text
    assert [post["telegram_message_id"] for post in training.json()["posts"]] == [10, 9, 8, 7]
    assert training.json()["posts"][0]["media_type"] == "photo"


async def test_scrape_errors_name_what_is_wrong(rig: Rig, new_id) -> None:
    channel = add_channel(rig.stand, new_id)
    rig.stand.ban(channel, rig.stand.account_of(rig.session))
    cases = [
        ({"channel_username": f"@ghost{new_id()}"}, 404, "not found on Telegram"),
        ({"channel_username": channel.username}, 403, "private"),
        ({"channel_username": "two words"}, 422, "channel_username"),
        ({"limit": 5}, 422, "channel_username: is required"),
        ({"channel_username": "@durov", "limit": 0}, 422, "limit"),
        ({"channel_username": "@durov", "limit": "7"}, 422, "limit"),
    ]
    for payload, status, words in cases:
        response = await rig.api.post("/api/v1/cmd/scrape", json=payload)
        assert response.status_code == status, (payload, response.text)
        assert words in response.json()["detail"] and response.json()["status_code"] == status


async def test_a_flood_wait_is_answered_202_and_runs_later(rig: Rig, new_id, store) -> None:
    channel = add_channel(rig.stand, new_id, posts=3)
    rig.stand.fail_next("messages.GetHistory", "FLOOD_WAIT_42")
    response = await rig.api.post("/api/v1/cmd/scrape", json={"channel_username": channel.username})
    assert response.status_code == 202, response.text
    assert response.headers["retry-after"] == "42"
    assert response.json()["status"] == "flood_wait" and response.json()["flood_wait"] == 42
    joined = await rig.api.post("/api/v1/cmd/join", json={"channel_username": channel.username})
    assert joined.status_code == 202 and joined.json()["queued"] is True


async def test_join_and_join_again(rig: Rig, new_id) -> None:
    channel = add_channel(rig.stand, new_id)
    first = await rig.api.post("/api/v1/cmd/join", json={"channel_username": f"t.me/{channel.username}"})
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "joined" and first.json()["channel"]["title"] == channel.title
    again = await rig.api.post("/api/v1/cmd/join", json={"channel_username": channel.username})
    assert again.json()["status"] == "already_joined"
    listed = await rig.api.get("/api/v1/channels/")
    assert channel.username in {row["username"] for row in listed.json()["channels"]}


async def test_join_errors(rig: Rig, new_id) -> None:
    group = rig.stand.add_channel(f"chat{new_id()}", "Group chat", megagroup=True)
    response = await rig.api.post("/api/v1/cmd/join", json={"channel_username": group.username})
    assert response.status_code == 422 and "not a channel" in response.json()["detail"]
    response = await rig.api.post("/api/v1/cmd/join", json={"channel_username": f"missing{new_id()}"})
    assert response.status_code == 404


async def test_without_a_session_the_commands_are_409_not_configured(api: httpx.AsyncClient) -> None:
    """No retry mends a server without a scraper (503 said "later"): 409 naming the settings,
    which a REST client reads back as `NotConfigured` (still an `Unavailable` to the bot)."""
    from ppb.bot.api import error_for
    from ppb.domain.errors import NotConfigured, Unavailable

    for path in ("/api/v1/cmd/scrape", "/api/v1/cmd/join"):
        response = await api.post(path, json={"channel_username": "@durov", "limit": 3})
        assert response.status_code == 409, response.text
        detail = response.json()["detail"]
        assert detail.startswith("scraper: not configured") and "TELETHON_SESSION" in detail
        assert isinstance(error_for(409, detail), NotConfigured) and isinstance(error_for(409, detail), Unavailable)
    assert type(error_for(409, "channel_username: the scraper watches 300 channels already")).__name__ == "Conflict"


async def test_the_commands_need_the_api_key(rig: Rig) -> None:
    response = await rig.api.post("/api/v1/cmd/scrape", json={"channel_username": "@durov"}, headers={"X-API-Key": "wrong"})
    assert response.status_code == 401


async def test_a_revoked_session_is_a_clear_503_while_the_rest_serves(rig: Rig, new_id) -> None:
    channel = add_channel(rig.stand, new_id, posts=6)
    first = await rig.api.post("/api/v1/cmd/scrape", json={"channel_username": channel.username, "limit": 6})
    assert first.status_code == 200, first.text

    rig.stand.revoke(rig.session)  # the account's owner ended the session
    rig.stand.post(channel, "posted after the session was ended")
    for path in ("/api/v1/cmd/scrape", "/api/v1/cmd/join"):
        response = await rig.api.post(path, json={"channel_username": channel.username})
        assert response.status_code == 503, response.text
        detail = response.json()["detail"]
        assert "TELETHON_SESSION is no longer logged in (AUTH_KEY_UNREGISTERED)" in detail
        assert "ppb telegram-login" in detail

    user = new_id()
    assert (await rig.api.post("/api/v1/users/", json={"telegram_id": user})).status_code == 201
    training = await rig.api.post("/api/v1/posts/training", json={
        "user_telegram_id": user, "channel_usernames": [channel.username], "posts_per_channel": 10})
    assert training.status_code == 200 and len(training.json()["posts"]) == 6, "stored posts keep serving"
    metrics = (await rig.api.get("/metrics")).text
    assert 'ppb_scraper_logged_in{session="api-test"} 0.0' in metrics


async def test_training_with_refresh_asks_the_scraper_for_the_newest_posts_first(rig: Rig, new_id) -> None:
    channel = add_channel(rig.stand, new_id, posts=3)
    name = f"@{channel.username}"
    scraped = await rig.api.post("/api/v1/cmd/scrape", json={"channel_username": name, "limit": 3})
    assert scraped.status_code == 200, scraped.text
    user = new_id()
    assert (await rig.api.post("/api/v1/users/", json={"telegram_id": user})).status_code == 201
    for number in range(4, 7):
        rig.stand.post(channel, f"story {number} fresh from the harbour about ferries")

    stored = await rig.api.post(f"/api/v1/users/{user}/training", json={"channels": [name]})
    assert stored.status_code == 200, stored.text
    assert stored.json()["total"] == 3  # without `refresh`: what the store holds

    fresh = await rig.api.post(f"/api/v1/users/{user}/training", json={"channels": [name], "refresh": True})
    assert fresh.status_code == 200, fresh.text
    assert fresh.json()["total"] == 6
    assert fresh.json()["posts"][0]["telegram_message_id"] == 6


async def test_training_with_refresh_trains_on_stored_posts_when_the_scraper_cannot_help(rig: Rig, new_id) -> None:
    channel = add_channel(rig.stand, new_id, posts=3)
    name = f"@{channel.username}"
    assert (await rig.api.post("/api/v1/cmd/scrape", json={"channel_username": name, "limit": 3})).status_code == 200
    rig.stand.ban(channel, rig.stand.account_of(rig.session))
    user = new_id()
    assert (await rig.api.post("/api/v1/users/", json={"telegram_id": user})).status_code == 201
    started = await rig.api.post(f"/api/v1/users/{user}/training", json={"channels": [name], "refresh": True})
    assert started.status_code == 200, started.text
    assert started.json()["total"] == 3
