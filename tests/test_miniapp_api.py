"""The Mini App's API: initData authentication, identity, training and feed cards, ratings."""

from __future__ import annotations

import time

import httpx
import pytest
from aiogram.utils.token import validate_token

from ppb.compose.web import http_app as build_app
from ppb.config import Settings, load_settings
from ppb.http.miniapp_auth import miniapp_bot_token, sign_init_data
from ppb.http.services import Services
from tests.store_reads import outbox_of

MINIAPP = "/api/v1/miniapp"


def tg_user(telegram_id: int, language: str = "en", **extra: object) -> dict:
    return {"id": telegram_id, "first_name": "Ann", "username": f"ann{telegram_id}", "language_code": language, **extra}


def tma(settings: Settings, user: dict, **options: object) -> dict[str, str]:
    init_data = sign_init_data(miniapp_bot_token(settings), user, **options)  # type: ignore[arg-type]
    return {"Authorization": f"tma {init_data}"}


async def send_without_api_key(api: httpx.AsyncClient, method: str, url: str, **kwargs: object) -> httpx.Response:
    """The Mini App has no X-API-Key: its calls must pass without one."""
    request = api.build_request(method, url, **kwargs)  # type: ignore[arg-type]
    del request.headers["x-api-key"]
    return await api.send(request)


async def seed_channel(api: httpx.AsyncClient, new_id, *, texts: list[str], username: str | None = "auto") -> tuple[dict, list[int]]:
    telegram_id = -1000000000000 - new_id()
    name = f"mini{telegram_id % 10**9}" if username == "auto" else username
    channel = await api.post("/api/v1/channels/", json={"telegram_id": telegram_id, "username": name, "title": f"Channel {name}"})
    assert channel.status_code in (200, 201), channel.text
    posts = [
        {"telegram_message_id": 100 + index, "text": text, "media_type": "photo" if index == 0 else "text", "posted_at": f"2024-02-0{index + 1}T10:00:00Z"}
        for index, text in enumerate(texts)
    ]
    bulk = await api.post("/api/v1/posts/bulk", json={"channel_telegram_id": telegram_id, "posts": posts})
    assert bulk.status_code == 200, bulk.text
    return channel.json(), bulk.json()["post_ids"]


async def test_me_registers_the_user_initdata_names(api: httpx.AsyncClient, settings: Settings, new_id) -> None:
    telegram_id = new_id()
    headers = tma(settings, tg_user(telegram_id, "ru-RU", last_name="Smith"))
    first = await send_without_api_key(api, "GET", f"{MINIAPP}/me", headers=headers)
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["telegram_id"] == telegram_id
    assert body["username"] == f"ann{telegram_id}" and body["last_name"] == "Smith"
    assert body["status"] == "new" and body["ui_language"] == "ru" and body["language"] == "ru"
    again = await send_without_api_key(api, "GET", f"{MINIAPP}/me", headers=headers)
    assert again.json()["id"] == body["id"]
    stored = await api.get(f"/api/v1/users/{telegram_id}")
    assert stored.status_code == 200 and stored.json()["id"] == body["id"]


async def test_stored_language_wins_over_telegrams(api: httpx.AsyncClient, settings: Settings, new_id) -> None:
    telegram_id = new_id()
    await api.post("/api/v1/users/", json={"telegram_id": telegram_id, "language": "ru"})
    response = await api.get(f"{MINIAPP}/me", headers=tma(settings, tg_user(telegram_id, "en")))
    assert response.json()["ui_language"] == "ru"


async def test_the_settings_tab_finds_a_zone_by_place_in_the_readers_language(
        api: httpx.AsyncClient, settings: Settings, new_id) -> None:
    telegram_id = new_id()
    headers = tma(settings, tg_user(telegram_id, "uk"))
    moscow = await send_without_api_key(api, "GET", f"{MINIAPP}/timezones?q=Moscow", headers=headers)
    assert moscow.status_code == 200, moscow.text
    assert moscow.json() == {"zones": [{"zone": "Europe/Moscow", "city": "Москва"}]}
    russia = (await send_without_api_key(api, "GET", f"{MINIAPP}/timezones?q=Россия", headers=headers)).json()
    assert len(russia["zones"]) > 3 and {"zone": "Europe/Moscow", "city": "Москва"} in russia["zones"]
    nowhere = await send_without_api_key(api, "GET", f"{MINIAPP}/timezones?q=Mars", headers=headers)
    assert nowhere.json() == {"zones": []}
    missing = await send_without_api_key(api, "GET", f"{MINIAPP}/timezones", headers=headers)
    assert missing.status_code == 422 and "q" in missing.json()["detail"]
    anonymous = await send_without_api_key(api, "GET", f"{MINIAPP}/timezones?q=Moscow")
    assert anonymous.status_code == 401


def forged(settings: Settings, telegram_id: int) -> dict[str, str]:
    init_data = sign_init_data("123456789:" + "x" * 35, tg_user(telegram_id))
    return {"Authorization": f"tma {init_data}"}


def tampered(settings: Settings, telegram_id: int) -> dict[str, str]:
    header = tma(settings, tg_user(telegram_id))["Authorization"]
    return {"Authorization": header.replace(f"%22id%22%3A{telegram_id}", f"%22id%22%3A{telegram_id + 1}")}


def expired(settings: Settings, telegram_id: int) -> dict[str, str]:
    old = int(time.time() - settings.miniapp_auth_max_age - 60)
    return tma(settings, tg_user(telegram_id), auth_date=old)


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda settings, telegram_id: {}, "required"),
        (lambda settings, telegram_id: {"Authorization": "Bearer abc"}, "tma"),
        (lambda settings, telegram_id: {"Authorization": "tma not-init-data"}, "signature"),
        (forged, "signature"),
        (tampered, "signature"),
        (expired, "old"),
        (lambda settings, telegram_id: tma(settings, tg_user(telegram_id), auth_date=int(time.time()) + 3600), "future"),
    ],
    ids=["missing", "other-scheme", "garbage", "forged-hash", "tampered-user", "expired", "future"],
)
async def test_bad_initdata_is_401_with_the_error_body(
    api: httpx.AsyncClient, settings: Settings, new_id, make, words: str
) -> None:
    telegram_id = new_id()
    for method, path, body in (("GET", "/me", None), ("GET", "/posts", None), ("POST", "/interactions", {"post_id": 1, "interaction_type": "like"})):
        response = await send_without_api_key(api, method, f"{MINIAPP}{path}", headers=make(settings, telegram_id), json=body)
        assert response.status_code == 401, (path, response.text)
        assert response.json()["status_code"] == 401
        assert words in response.json()["detail"]
        assert response.headers["www-authenticate"] == "tma"
    assert (await api.get(f"/api/v1/users/{telegram_id}")).status_code == 404  # nobody was registered


async def test_identity_comes_from_initdata_never_the_query(api: httpx.AsyncClient, settings: Settings, new_id) -> None:
    me, other = new_id(), new_id()
    await api.post("/api/v1/users/", json={"telegram_id": other})
    _, [post_id, *_] = await seed_channel(api, new_id, texts=["one", "two"])
    headers = tma(settings, tg_user(me))
    response = await api.post(
        f"{MINIAPP}/interactions",
        params={"user_telegram_id": other},
        json={"post_id": post_id, "interaction_type": "like", "user_telegram_id": other},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    mine = (await api.get(f"/api/v1/posts/interactions/{me}")).json()["interactions"]
    theirs = (await api.get(f"/api/v1/posts/interactions/{other}")).json()["interactions"]
    assert [row["post_id"] for row in mine] == [post_id] and theirs == []
    shown = await api.get(f"{MINIAPP}/me", params={"telegram_id": other}, headers=headers)
    assert shown.json()["telegram_id"] == me


async def test_resending_a_rating_is_idempotent(api: httpx.AsyncClient, settings: Settings, new_id) -> None:
    telegram_id = new_id()
    _, [post_id, *_] = await seed_channel(api, new_id, texts=["a", "b"])
    headers = tma(settings, tg_user(telegram_id))
    sent = [await api.post(f"{MINIAPP}/interactions", json={"post_id": post_id, "interaction_type": "dislike"}, headers=headers) for _ in range(3)]
    assert [response.status_code for response in sent] == [200, 200, 200]
    assert len({response.json()["id"] for response in sent}) == 1
    rows = (await api.get(f"/api/v1/posts/interactions/{telegram_id}")).json()["interactions"]
    assert [(row["post_id"], row["interaction_type"]) for row in rows] == [(post_id, "dislike")]


async def test_rating_errors_name_the_field(api: httpx.AsyncClient, settings: Settings, new_id) -> None:
    headers = tma(settings, tg_user(new_id()))
    wrong = await api.post(f"{MINIAPP}/interactions", json={"post_id": 1, "interaction_type": "love"}, headers=headers)
    assert wrong.status_code == 422 and "interaction_type" in wrong.json()["detail"]
    missing = await api.post(f"{MINIAPP}/interactions", json={"post_id": 2**40, "interaction_type": "like"}, headers=headers)
    assert missing.status_code == 404 and missing.json()["status_code"] == 404
    limit = await api.get(f"{MINIAPP}/posts", params={"limit": 1000}, headers=headers)
    assert limit.status_code == 422 and "limit" in limit.json()["detail"]
    mode = await api.get(f"{MINIAPP}/posts", params={"mode": "random"}, headers=headers)
    assert mode.status_code == 422 and "mode" in mode.json()["detail"]


async def test_training_cards_are_the_users_channels_unrated(api: httpx.AsyncClient, settings: Settings, new_id) -> None:
    telegram_id = new_id()
    headers = tma(settings, tg_user(telegram_id))
    await api.get(f"{MINIAPP}/me", headers=headers)
    channel, post_ids = await seed_channel(api, new_id, texts=["first <b>post</b>", "second", "third"])
    linked = await api.post(f"/api/v1/users/{telegram_id}/channels", json={"channel": channel["username"]})
    assert linked.status_code == 201, linked.text
    await api.post(f"{MINIAPP}/interactions", json={"post_id": post_ids[1], "interaction_type": "like"}, headers=headers)

    response = await api.get(f"{MINIAPP}/posts", params={"mode": "training", "limit": 100}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    mine = [post for post in body["posts"] if post["id"] in post_ids]
    assert sorted(post["id"] for post in mine) == sorted([post_ids[0], post_ids[2]])
    first = next(post for post in mine if post["id"] == post_ids[0])
    assert first["text"] == "first <b>post</b>" and first["media_type"] == "photo"
    assert first["channel_title"] == channel["title"]
    assert first["url"] == f"https://t.me/{channel['username']}/100"
    assert body["mode"] == "training" and body["done"] == 0 and body["total"] == len(body["posts"])
    assert body["status"] == "training" and not body["finished"], "opening the deck starts the training"
    await api.post(f"{MINIAPP}/interactions", json={"post_id": post_ids[0], "interaction_type": "dislike"}, headers=headers)
    again = (await api.get(f"{MINIAPP}/posts", params={"mode": "training"}, headers=headers)).json()
    assert again["done"] == 1 and again["total"] == body["total"], "progress counts ratings of the one set"
    state = (await api.get(f"/api/v1/users/{telegram_id}/training")).json()
    assert (state["done"], state["total"]) == (again["done"], again["total"]), "the chat reads the same state"


async def test_feed_cards_link_to_the_original(api: httpx.AsyncClient, settings: Settings, new_id) -> None:
    telegram_id = new_id()
    headers = tma(settings, tg_user(telegram_id))
    await api.get(f"{MINIAPP}/me", headers=headers)
    channel, post_ids = await seed_channel(api, new_id, texts=["apples and pears", "pears and plums", "cars and trucks"])
    unnamed, unnamed_ids = await seed_channel(api, new_id, texts=["no username here"], username=None)
    for name in (channel["username"], str(unnamed["telegram_id"])):
        await api.post(f"/api/v1/users/{telegram_id}/channels", json={"channel": name})
    await api.post(f"{MINIAPP}/interactions", json={"post_id": post_ids[0], "interaction_type": "like"}, headers=headers)
    response = await api.get(f"{MINIAPP}/posts", params={"mode": "feed", "limit": 50}, headers=headers)
    assert response.status_code == 200, response.text
    cards = {post["id"]: post for post in response.json()["posts"]}
    assert post_ids[0] not in cards  # rated: never shown again
    assert cards[post_ids[1]]["url"] == f"https://t.me/{channel['username']}/101"
    assert cards[unnamed_ids[0]]["url"] is None
    assert all(isinstance(post["relevance_score"], float) for post in cards.values())


async def test_cors_only_for_the_miniapp_origin(settings: Settings, services: Services, new_id) -> None:
    configured = load_settings(
        DATABASE_URL=settings.database_url_value, PPB_API_KEY="k", MINIAPP_URL="https://app.example.org/miniapp/"
    )
    app = build_app(configured, services)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as client:
        preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"}
        allowed = await client.options(f"{MINIAPP}/interactions", headers={"Origin": "https://app.example.org", **preflight})
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://app.example.org"
        denied = await client.options(f"{MINIAPP}/interactions", headers={"Origin": "https://evil.example.com", **preflight})
        assert "access-control-allow-origin" not in denied.headers
        other = await client.get("/api/v1/channels/", headers={"Origin": "https://app.example.org", "X-API-Key": "k"})
        assert "access-control-allow-origin" not in other.headers  # CORS is the Mini App's only


async def test_static_app_is_served_and_nothing_else(api: httpx.AsyncClient) -> None:
    page = await api.get("/miniapp/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "data-action=\"like\"" in page.text and "telegram.org" not in page.text
    assert (await api.get("/miniapp/app.js")).status_code == 200
    assert (await api.get("/miniapp/__init__.py")).status_code == 404
    redirect = await api.get("/miniapp", follow_redirects=False)
    assert redirect.status_code in (301, 307) and redirect.headers["location"].endswith("/miniapp/")


def test_sandbox_token_is_stable_per_deployment_and_valid_for_aiogram() -> None:
    one = load_settings(DATABASE_URL="sqlite:///one.db")
    token = miniapp_bot_token(one)
    validate_token(token)
    assert token == miniapp_bot_token(load_settings(DATABASE_URL="sqlite:///one.db"))
    assert token != miniapp_bot_token(load_settings(DATABASE_URL="sqlite:///two.db"))
    assert token != miniapp_bot_token(load_settings(DATABASE_URL="sqlite:///one.db", PPB_API_KEY="secret"))
    assert miniapp_bot_token(load_settings(BOT_TOKEN="42:abc")) == "42:abc"


async def test_the_chat_and_the_mini_app_share_one_feed_state(
        api: httpx.AsyncClient, settings: Settings, services: Services, new_id) -> None:
    telegram_id = new_id()
    headers = tma(settings, tg_user(telegram_id))
    user = (await api.get(f"{MINIAPP}/me", headers=headers)).json()
    channel, post_ids = await seed_channel(api, new_id, texts=["alpha news", "beta news", "gamma news", "delta news"])
    await api.post(f"/api/v1/users/{telegram_id}/channels", json={"channel": channel["username"]})

    sent = (await api.post(f"/api/v1/users/{telegram_id}/feed", json={"limit": 2})).json()["posts"]
    in_chat = [post["id"] for post in sent]
    deck = (await api.get(f"{MINIAPP}/posts", params={"mode": "feed"}, headers=headers)).json()["posts"]
    assert deck and not {post["id"] for post in deck} & set(in_chat), "the deck repeats what the chat sent"

    async def marks() -> list[dict]:
        return [row["payload"] for row in await outbox_of(services.store, user["id"]) if row["kind"] == "mark"]

    first = in_chat[0]
    rated = await api.post(f"{MINIAPP}/interactions", json={"post_id": first, "interaction_type": "dislike"}, headers=headers)
    assert rated.status_code == 200 and rated.json()["kept"] is False
    assert await marks() == [{"post_id": first, "kind": "dislike"}], "the chat's copy is to show the 👎"
    not_in_chat = deck[0]["id"]
    await api.post(f"{MINIAPP}/interactions", json={"post_id": not_in_chat, "interaction_type": "like"}, headers=headers)
    assert len(await marks()) == 1, "a post the chat does not hold needs no mark"

    def chat_press(kind: str, shown: str) -> dict:
        return {"user_telegram_id": telegram_id, "post_id": first, "interaction_type": kind, "if_rated": shown}

    unaware = (await api.post("/api/v1/posts/interactions", json=chat_press("like", "none"))).json()
    assert (unaware["kept"], unaware["interaction_type"], unaware["previous"]) == (True, "dislike", "dislike")
    knowing = (await api.post("/api/v1/posts/interactions", json=chat_press("like", "dislike"))).json()
    assert (knowing["kept"], knowing["interaction_type"], knowing["previous"]) == (False, "like", "dislike")
    stale = await api.post(f"{MINIAPP}/interactions", json={"post_id": first, "interaction_type": "skip"}, headers=headers)
    assert (stale.json()["kept"], stale.json()["interaction_type"]) == (True, "like"), "the chat's 👍 stays"
    rows = (await api.get(f"/api/v1/posts/interactions/{telegram_id}")).json()["interactions"]
    assert {row["post_id"]: row["interaction_type"] for row in rows}[first] == "like"


async def test_a_feed_card_says_why_it_is_there(api: httpx.AsyncClient, settings: Settings, store, new_id) -> None:
    telegram_id = new_id()
    headers = tma(settings, tg_user(telegram_id))
    await api.get(f"{MINIAPP}/me", headers=headers)
    channel, post_ids = await seed_channel(api, new_id, texts=[
        "apples and pears from the orchard", "pears and apples in the orchard today", "cars and trucks on the road",
        "trucks and buses on the road tonight", "buses and cars on the ring road"])
    await api.post(f"/api/v1/users/{telegram_id}/channels", json={"channel": channel["username"]})
    await api.post(f"{MINIAPP}/interactions", json={"post_id": post_ids[0], "interaction_type": "like"}, headers=headers)
    await api.post(f"{MINIAPP}/interactions", json={"post_id": post_ids[2], "interaction_type": "dislike"}, headers=headers)
    deck = await api.get(f"{MINIAPP}/posts", params={"mode": "feed", "limit": 50}, headers=headers)
    assert [post["id"] for post in deck.json()["posts"]][0] == post_ids[1], deck.text
    response = await api.get(f"{MINIAPP}/explain", params={"post_id": post_ids[1]}, headers=headers)
    assert response.status_code == 200, response.text
    named = {named["id"] for reason in response.json()["reasons"] for named in reason["posts"]}
    assert post_ids[0] in named, response.text
    bad = await api.get(f"{MINIAPP}/explain", params={"post_id": "x"}, headers=headers)
    assert bad.status_code == 422 and bad.json()["detail"].startswith("post_id: "), bad.text
    gone = await api.get(f"{MINIAPP}/explain", params={"post_id": 2**62}, headers=headers)
    assert gone.status_code == 404 and gone.json()["detail"].startswith("post_id: "), gone.text
    given = await store.explanations_of(await store.user_id(telegram_id))
    lead = response.json()["reasons"][0]["kind"]
    assert [(row["post_id"], row["lead"], row["surface"]) for row in given] == [(post_ids[1], lead, "miniapp")]
