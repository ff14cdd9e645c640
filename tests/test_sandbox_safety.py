"""The sandbox hands out no identities: its own token only, and the API key off loopback."""

from __future__ import annotations

import httpx
import pytest

from ppb.compose.web import http_app as build_app
from ppb.config import SettingsError, load_settings
from ppb.http.miniapp_auth import verify_init_data
from ppb.http.serve import app_builder
from ppb.sandbox.routes import sandbox_token

KEY = "a-key-of-sixteen-chars"
ROUTES = [
    ("GET", "/sandbox/api/chats/4242/webapp", None),
    ("GET", "/sandbox/api/chats/4242", None),
    ("POST", "/sandbox/api/chats/4242/messages", {"text": "/start"}),
    ("POST", "/sandbox/api/chats/4242/callbacks", {"message_id": 1, "data": "x"}),
    ("GET", "/sandbox/api/bot", None),
    ("POST", "/sandbox/api/faults", {"outage": True}),
    ("DELETE", "/sandbox/api/faults", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
async def test_off_loopback_every_sandbox_route_needs_the_key(
    database_url: str, method: str, path: str, body: dict | None
) -> None:
    settings = load_settings(DATABASE_URL=database_url, PPB_API_KEY=KEY, PPB_HTTP_HOST="0.0.0.0", PPB_SANDBOX="1")
    app = build_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ppb.example.org") as client:
        refused = await client.request(method, path, json=body)
        assert refused.status_code == 401, refused.text
        assert refused.json() == {"detail": "X-API-Key: header is required", "status_code": 401}
        allowed = await client.request(method, path, json=body, headers={"X-API-Key": KEY})
        assert allowed.status_code < 400 or allowed.status_code == 404, allowed.text


async def test_the_sandbox_signs_with_its_own_token(database_url: str) -> None:
    settings = load_settings(DATABASE_URL=database_url, PPB_API_KEY=KEY)
    app = build_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as client:
        signed = (await client.get("/sandbox/api/chats/4242/webapp")).json()["init_data"]
    assert verify_init_data(signed, sandbox_token(settings), max_age=60).id == 4242
    with pytest.raises(ValueError):  # the same initData means nothing to a real bot
        verify_init_data(signed, "123456:real-bot-token-that-is-not-the-sandboxes", max_age=60)


def test_the_sandbox_is_not_mounted_on_a_public_host_by_default(database_url: str) -> None:
    app = build_app(load_settings(DATABASE_URL=database_url, PPB_API_KEY=KEY, PPB_HTTP_HOST="0.0.0.0"))
    assert "/sandbox" not in {getattr(route, "path", "") for route in app.routes}


def test_serve_deploy_without_a_key_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """`serve deploy` binds what its YAML says (0.0.0.0), whatever PPB_HTTP_HOST says."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PPB_HTTP_HOST", "127.0.0.1")
    monkeypatch.delenv("PPB_API_KEY", raising=False)
    with pytest.raises(SettingsError, match="PPB_API_KEY"):
        app_builder({})
    monkeypatch.setenv("PPB_API_KEY", "short")
    with pytest.raises(SettingsError, match="16 characters"):
        app_builder({})
    monkeypatch.setenv("PPB_API_KEY", KEY)
    built = app_builder({})
    settings = built._bound_deployment.init_args[0]
    assert settings.http_host == "0.0.0.0" and not settings.use_sandbox
