"""Every error class: its status and its body, never a 500 for bad input."""

from __future__ import annotations

import httpx
import pytest

from ppb.compose.core import build_services
from ppb.compose.web import http_app as build_app
from ppb.config import load_settings
from tests.conftest import API_KEY


def assert_error(response: httpx.Response, status: int, *words: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"detail", "status_code"}
    assert body["status_code"] == status
    for word in words:
        assert word in body["detail"], body["detail"]


async def test_broken_json_is_400(api: httpx.AsyncClient) -> None:
    response = await api.post("/api/v1/users/", content=b'{"telegram_id": 1,', headers={"Content-Type": "application/json"})
    assert_error(response, 400, "body", "invalid JSON")


async def test_non_object_body_is_400(api: httpx.AsyncClient) -> None:
    assert_error(await api.post("/api/v1/users/", json=[1, 2]), 400, "body", "object")
    assert_error(await api.post("/api/v1/users/", content=b""), 400, "body")


@pytest.mark.parametrize(
    ("path", "payload", "words"),
    [
        ("/api/v1/users/", {"telegram_id": "123"}, ["telegram_id", "integer"]),
        ("/api/v1/users/", {"username": "x"}, ["telegram_id", "required"]),
        ("/api/v1/users/", {"telegram_id": 2**70}, ["telegram_id"]),
        ("/api/v1/posts/interactions", {"user_telegram_id": 1, "post_id": 1, "interaction_type": "love"}, ["interaction_type", "like", "dislike", "skip"]),
        ("/api/v1/posts/interactions", {"user_telegram_id": 1, "interaction_type": "like"}, ["post_id", "required"]),
        ("/api/v1/posts/best", {"user_telegram_id": 1, "limit": 0}, ["limit"]),
        ("/api/v1/posts/best", {"user_telegram_id": 1, "limit": "5"}, ["limit"]),
        ("/api/v1/posts/bulk", {"channel_telegram_id": -100, "posts": [{"telegram_message_id": 1, "posted_at": "yesterday"}]}, ["posts[0].posted_at"]),
        ("/api/v1/posts/bulk", {"channel_telegram_id": -100, "posts": [{"telegram_message_id": 1, "posted_at": "2024-01-01T00:00:00Z", "media_type": "hologram"}]}, ["posts[0].media_type"]),
        ("/api/v1/posts/training", {"user_telegram_id": 1, "channel_usernames": ["ok_name", "no spaces!"]}, ["channel_usernames[1]"]),
        ("/api/v1/posts/training", {"user_telegram_id": 1, "channel_usernames": []}, ["channel_usernames"]),
        ("/api/v1/channels/", {"telegram_id": -1001, "username": "a b", "title": "T"}, ["username"]),
        ("/api/v1/channels/", {"telegram_id": -1001, "title": ""}, ["title"]),
        ("/api/v1/ml/train", {"user_telegram_id": None}, ["user_telegram_id"]),
        ("/api/v1/users/1/events", {"event": "fly"}, ["event", "start_training"]),
    ],
    ids=lambda value: value if isinstance(value, str) and value.startswith("/") else None,
)
async def test_bad_input_is_422_naming_the_field(api: httpx.AsyncClient, path: str, payload: dict, words: list[str]) -> None:
    assert_error(await api.post(path, json=payload), 422, *words)


async def test_unknown_ids_are_404(api: httpx.AsyncClient, new_id) -> None:
    missing = new_id()
    assert_error(await api.get(f"/api/v1/users/{missing}"), 404, str(missing))
    assert_error(await api.get(f"/api/v1/posts/interactions/{missing}"), 404, str(missing))
    assert_error(await api.post("/api/v1/ml/train", json={"user_telegram_id": missing}), 404, str(missing))
    assert_error(await api.post("/api/v1/posts/best", json={"user_telegram_id": missing, "limit": 1}), 404)
    assert_error(
        await api.post("/api/v1/posts/bulk", json={"channel_telegram_id": -missing, "posts": []}), 404, "channel"
    )
    user = new_id()
    await api.post("/api/v1/users/", json={"telegram_id": user})
    assert_error(
        await api.post("/api/v1/posts/interactions", json={"user_telegram_id": user, "post_id": 2**40, "interaction_type": "like"}),
        404,
        "post",
    )
    assert_error(
        await api.post("/api/v1/posts/training", json={"user_telegram_id": user + 10**12, "channel_usernames": ["@durov"]}),
        404,
        "user",
    )
    assert_error(await api.get("/api/v1/users/abc"), 422, "telegram_id")
    assert_error(await api.get("/api/v1/nothing-here"), 404)


async def test_api_key_is_required(api: httpx.AsyncClient) -> None:
    no_key = await api.get("/api/v1/channels/", headers={"X-API-Key": ""})
    assert_error(no_key, 401, "X-API-Key")
    wrong = await api.get("/api/v1/channels/", headers={"X-API-Key": "nope"})
    assert_error(wrong, 401, "X-API-Key")
    async with httpx.AsyncClient(transport=api._transport, base_url="http://127.0.0.1") as bare:
        assert_error(await bare.post("/api/v1/users/", json={"telegram_id": 1}), 401, "X-API-Key")
        assert (await bare.get("/healthz")).status_code == 200  # probes stay open


async def test_wrong_method_is_405_in_the_error_shape(api: httpx.AsyncClient) -> None:
    assert_error(await api.put("/api/v1/users/"), 405)


@pytest.mark.parametrize(
    "url",
    ["postgresql://postgres@127.0.0.1:1/test", "sqlite:////nonexistent-dir/for/ppb.db"],
    ids=["postgres", "sqlite"],
)
async def test_database_down_is_503(url: str) -> None:
    settings = load_settings(DATABASE_URL=url, PPB_API_KEY=API_KEY)
    services = build_services(settings)
    await services.store.connect()
    app = build_app(settings, services)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1", headers={"X-API-Key": API_KEY}
    ) as client:
        assert_error(await client.post("/api/v1/users/", json={"telegram_id": 5}), 503, "database")
        rating = {"user_telegram_id": 5, "post_id": 1, "interaction_type": "like"}
        assert_error(await client.post("/api/v1/posts/interactions", json=rating), 503, "database")
        assert_error(await client.get("/readyz"), 503, "database")
        assert (await client.get("/healthz")).status_code == 200
    await services.store.disconnect()
