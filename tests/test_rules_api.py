"""The person's rules through the API (and the Mini App), on SQLite and PostgreSQL: what is
stored, the 422s naming the field, and that a muted word or a hidden ad reaches the person
through no path (best posts, the chat's feed, training, the Mini App)."""

from __future__ import annotations

import httpx

from ppb.config import Settings
from tests.test_miniapp_api import MINIAPP, seed_channel, send_without_api_key, tg_user, tma
from tests.test_training_api import person, rate, start, state


async def test_rules_default_then_change_field_by_field(api: httpx.AsyncClient, new_id) -> None:
    telegram_id = new_id()
    await person(api, telegram_id)
    got = await api.get(f"/api/v1/users/{telegram_id}/rules")
    assert got.status_code == 200, got.text
    assert got.json() == {"delivery": "both", "digest": "daily", "digest_time": "09:00", "timezone": "UTC",
                          "quiet_start": "23:00", "quiet_end": "08:00", "mute_words": [], "hide_ads": False,
                          "must_words": [], "channel_dials": []}
    changed = await api.patch(f"/api/v1/users/{telegram_id}/rules", json={
        "delivery": "live", "timezone": "Europe/Moscow", "mute_words": ["Crypto", " биткоин ", "crypto"],
        "hide_ads": True})
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["delivery"] == "live" and body["timezone"] == "Europe/Moscow" and body["hide_ads"] is True
    assert body["mute_words"] == ["Crypto", "биткоин"] and body["digest_time"] == "09:00"
    cleared = await api.patch(f"/api/v1/users/{telegram_id}/rules", json={"quiet_start": None, "quiet_end": None})
    assert (cleared.json()["quiet_start"], cleared.json()["quiet_end"]) == (None, None)
    again = await api.get(f"/api/v1/users/{telegram_id}/rules")
    assert again.json()["mute_words"] == ["Crypto", "биткоин"] and again.json()["quiet_start"] is None


async def test_bad_rules_get_a_422_naming_the_field(api: httpx.AsyncClient, new_id) -> None:
    telegram_id = new_id()
    await person(api, telegram_id)
    url = f"/api/v1/users/{telegram_id}/rules"
    cases = {
        "delivery": {"delivery": "sometimes"},
        "digest": {"digest": "weekly"},
        "digest_time": {"digest_time": "25:00"},
        "timezone": {"timezone": "Mars/Olympus"},
        "quiet_start": {"quiet_start": "7am"},
        "mute_words[1]": {"mute_words": ["ok", "   "]},
        "hide_ads": {"hide_ads": "yes"},
    }
    for field, body in cases.items():
        response = await api.patch(url, json=body)
        assert response.status_code == 422, (field, response.text)
        assert response.json()["detail"].startswith(field), (field, response.json())
    half = await api.patch(url, json={"quiet_end": None})
    assert half.status_code == 422 and half.json()["detail"].startswith("quiet_end")
    unknown = await api.get("/api/v1/users/987654321012/rules")
    assert unknown.status_code == 404


async def test_a_muted_word_or_an_ad_reaches_the_person_through_no_path(
        api: httpx.AsyncClient, settings: Settings, new_id) -> None:
    telegram_id = new_id()
    await person(api, telegram_id)
    texts = ["Crypto is back, prices up", "A quiet walk in the forest", "#реклама Лучший курс по Python",
             "Рецепт пирога с яблоками", "Биткоин снова растёт", "Use code READER20 for 20% off",
             "Notes on gardening in spring", "Cryptography basics for beginners"]
    channel, ids = await seed_channel(api, new_id, texts=texts)
    hidden = {ids[0], ids[2], ids[4], ids[5]}
    rules = await api.patch(f"/api/v1/users/{telegram_id}/rules",
                            json={"mute_words": ["crypto", "БИТКОИН"], "hide_ads": True})
    assert rules.status_code == 200, rules.text
    began = await start(api, telegram_id, [channel], posts_per_channel=10)
    shown = {post["id"] for post in (await state(api, telegram_id))["posts"]}
    assert shown and not shown & hidden and ids[7] in shown, "training: whole words only"
    assert began["total"] == len(texts) - len(hidden)
    training = await api.post("/api/v1/posts/training", json={
        "user_telegram_id": telegram_id, "channel_usernames": [f"@{channel['username']}"], "posts_per_channel": 10})
    assert not {post["id"] for post in training.json()["posts"]} & hidden
    for post_id in sorted(shown)[:2]:
        await rate(api, telegram_id, post_id, "like")
    best = await api.post("/api/v1/posts/best", json={"user_telegram_id": telegram_id, "limit": 20})
    best_ids = {post["id"] for post in best.json()["posts"]}
    assert best_ids and not best_ids & hidden
    feed = await api.post(f"/api/v1/users/{telegram_id}/feed", json={"limit": 20})
    assert feed.status_code == 200, feed.text
    assert not {post["id"] for post in feed.json()["posts"]} & hidden
    headers = tma(settings, tg_user(telegram_id))
    for mode in ("training", "feed"):
        cards = await send_without_api_key(api, "GET", f"{MINIAPP}/posts", params={"mode": mode}, headers=headers)
        assert cards.status_code == 200, cards.text
        assert not {card["id"] for card in cards.json()["posts"]} & hidden, mode
    shown_again = await api.patch(f"/api/v1/users/{telegram_id}/rules", json={"mute_words": [], "hide_ads": False})
    assert shown_again.status_code == 200
    best = await api.post("/api/v1/posts/best", json={"user_telegram_id": telegram_id, "limit": 20})
    assert hidden <= {post["id"] for post in best.json()["posts"]}, "lifting the rules shows them again"


async def test_the_mini_app_reads_and_changes_its_own_users_rules(
        api: httpx.AsyncClient, settings: Settings, new_id) -> None:
    telegram_id = new_id()
    headers = tma(settings, tg_user(telegram_id))
    got = await send_without_api_key(api, "GET", f"{MINIAPP}/rules", headers=headers)
    assert got.status_code == 200 and got.json()["delivery"] == "both"
    changed = await send_without_api_key(api, "PATCH", f"{MINIAPP}/rules", headers=headers,
                                         json={"digest": "twice", "digest_time": "07:30"})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["digest"], changed.json()["digest_time"]) == ("twice", "07:30")
    bad = await send_without_api_key(api, "PATCH", f"{MINIAPP}/rules", headers=headers, json={"timezone": "Nowhere"})
    assert bad.status_code == 422 and bad.json()["detail"].startswith("timezone")
    stored = await api.get(f"/api/v1/users/{telegram_id}/rules")
    assert stored.json()["digest"] == "twice"
    unsigned = await send_without_api_key(api, "GET", f"{MINIAPP}/rules")
    assert unsigned.status_code == 401
