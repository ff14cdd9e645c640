"""Input an attacker would send: every answer is a 4xx in the error shape, naming the field.

Each test runs on SQLite and on the real PostgreSQL (the `api` fixture's two backends).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from ppb.compose.core import build_services
from ppb.compose.web import http_app as build_app
from ppb.config import load_settings
from ppb.http.miniapp_auth import miniapp_bot_token, sign_init_data
from ppb.http.services import Services
from tests.conftest import API_KEY, POSTGRES_ADMIN_URL
from tests.test_api_errors import assert_error

NUL = "a\x00b"
POST_AT = "2024-01-01T00:00:00Z"


@pytest.mark.parametrize(
    ("path", "payload", "field"),
    [
        ("/api/v1/posts/interactions", {"user_telegram_id": 1, "post_id": 2**63, "interaction_type": "like"}, "post_id"),
        ("/api/v1/posts/interactions", {"user_telegram_id": 2**63, "post_id": 1, "interaction_type": "like"}, "user_telegram_id"),
        ("/api/v1/posts/best", {"user_telegram_id": -(2**63) - 1, "limit": 1}, "user_telegram_id"),
        ("/api/v1/users/1/events", {"event": "start", "details": {"n": 2**64}}, "details"),
        ("/api/v1/users/", {"telegram_id": 1, "first_name": NUL}, "first_name"),
        ("/api/v1/users/", {"telegram_id": 1, "username": "x" * 65}, "username"),
        ("/api/v1/users/", {"telegram_id": 1, "first_name": "x" * 129}, "first_name"),
        ("/api/v1/users/", {"telegram_id": 1, "last_name": "x" * 129}, "last_name"),
        ("/api/v1/channels/", {"telegram_id": -1001, "title": NUL}, "title"),
        ("/api/v1/posts/bulk", {"channel_telegram_id": -1001, "posts": [{"telegram_message_id": 1, "text": NUL, "posted_at": POST_AT}]}, "posts[0].text"),
        ("/api/v1/posts/training", {"user_telegram_id": 1, "channel_usernames": [NUL]}, "channel_usernames[0]"),
        ("/api/v1/users/1/events", {"event": "start", "details": {"why": NUL}}, "details"),
        ("/api/v1/posts/bulk", {"channel_telegram_id": -1001, "posts": [{"telegram_message_id": 1, "posted_at": "0001-01-01T00:00:00+05:00"}]}, "posts[0].posted_at"),
        ("/api/v1/users/1/channels", {"channel": NUL}, "channel"),
        ("/api/v1/cmd/join", {"channel_username": NUL}, "channel_username"),
    ],
    ids=lambda value: value if isinstance(value, str) and not value.startswith("/") else None,
)
async def test_out_of_range_ids_nul_and_long_names_are_422(
    api: httpx.AsyncClient, path: str, payload: dict, field: str
) -> None:
    assert_error(await api.post(path, json=payload), 422, field)


async def test_huge_path_ids_are_422(api: httpx.AsyncClient) -> None:
    for path in (f"/api/v1/users/{2**64}", f"/api/v1/users/{2**63}/channels", f"/api/v1/posts/interactions/{-(2**63) - 1}"):
        assert_error(await api.get(path), 422, "telegram_id")


async def test_miniapp_rating_of_a_huge_post_id_is_422(api: httpx.AsyncClient, settings, new_id) -> None:
    init_data = sign_init_data(miniapp_bot_token(settings), {"id": new_id(), "first_name": "N" * 300, "username": "u" * 80})
    headers = {"Authorization": f"tma {init_data}", "X-API-Key": ""}
    assert (await api.get("/api/v1/miniapp/me", headers=headers)).status_code == 200  # long signed names fit
    response = await api.post("/api/v1/miniapp/interactions", json={"post_id": 2**63, "interaction_type": "like"}, headers=headers)
    assert_error(response, 422, "post_id")


@pytest.mark.parametrize("hash_value", ["é" * 64, "☃", "00" * 31 + "ü"], ids=["latin", "snowman", "hex-then-umlaut"])
async def test_a_non_ascii_initdata_hash_is_401(api: httpx.AsyncClient, hash_value: str) -> None:
    init_data = f"auth_date=1700000000&user=%7B%22id%22%3A1%7D&hash={hash_value}"
    response = await api.get("/api/v1/miniapp/me", headers={"Authorization": f"tma {init_data}".encode()})
    assert_error(response, 401, "Authorization")


async def test_a_body_over_the_limit_is_413(database_url: str, services: Services) -> None:
    settings = load_settings(DATABASE_URL=database_url, PPB_API_KEY=API_KEY, PPB_MAX_BODY_BYTES="2048")
    app = build_app(settings, services)
    big = {"telegram_id": 1, "first_name": "x" * 4000}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1", headers={"X-API-Key": API_KEY}
    ) as client:
        assert_error(await client.post("/api/v1/users/", json=big), 413, "body", "2048")

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it streams
            yield b'{"telegram_id": 1, "first_name": "'
            for _ in range(10):
                yield b"x" * 500
            yield b'"}'

        streamed = await client.post("/api/v1/users/", content=chunks(), headers={"Content-Type": "application/json"})
        assert_error(streamed, 413, "body")
        small = await client.post("/api/v1/users/", json={"telegram_id": 1, "first_name": "x" * 100})
        assert small.status_code in (200, 201), small.text


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None]
)
async def test_a_body_that_is_not_json_is_415(api: httpx.AsyncClient, content_type: str | None) -> None:
    request = api.build_request("POST", "/api/v1/users/", content=b'{"telegram_id": 77}')
    if content_type is not None:
        request.headers["content-type"] = content_type
    assert_error(await api.send(request), 415, "Content-Type", "application/json")
    ok = await api.post("/api/v1/users/", content=b'{"telegram_id": 77}', headers={"Content-Type": "application/json; charset=utf-8"})
    assert ok.status_code in (200, 201)


async def test_an_unknown_host_header_is_400(api: httpx.AsyncClient) -> None:
    for host in ("evil.example", "127.0.0.1.nip.io", "attacker.test:8000"):
        assert_error(await api.get("/api/v1/channels/", headers={"Host": host}), 400, "Host")
    for host in ("127.0.0.1:8000", "localhost", "[::1]:8000"):
        assert (await api.get("/healthz", headers={"Host": host})).status_code == 200


async def test_configured_host_names_are_the_ones_answered(database_url: str) -> None:
    settings = load_settings(
        DATABASE_URL=database_url, PPB_API_KEY="a-key-of-sixteen-chars", PPB_HTTP_HOST="0.0.0.0",
        PPB_ALLOWED_HOSTS="ppb.example.org,*.ppb.example.org",
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=build_app(settings)), base_url="http://ppb.example.org") as client:
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/healthz", headers={"Host": "api.ppb.example.org"})).status_code == 200
        assert_error(await client.get("/healthz", headers={"Host": "127.0.0.1"}), 400, "Host")


async def _empty_postgres() -> tuple[str, str]:
    name = f"ppb_empty_{uuid.uuid4().hex[:10]}"
    connection = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}", name


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_a_missing_table_is_a_500_not_a_false_503(tmp_path, backend: str) -> None:
    """A store that was never migrated is a bug of the deployment: 500 (logged), not 503."""
    if backend == "sqlite":
        url, name = f"sqlite:///{tmp_path / 'empty.db'}", None
    else:
        url, name = await _empty_postgres()
    settings = load_settings(DATABASE_URL=url, PPB_API_KEY=API_KEY)
    services = build_services(settings)
    await services.store.connect()
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=build_app(settings, services), raise_app_exceptions=False),
            base_url="http://127.0.0.1", headers={"X-API-Key": API_KEY},
        ) as client:
            assert_error(await client.get("/api/v1/users/5"), 500, "internal error")
    finally:
        await services.store.disconnect()
        if name is not None:
            connection = await asyncpg.connect(POSTGRES_ADMIN_URL)
            try:
                await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                await connection.close()
