"""`HttpPpb`: the `Ppb` protocol (ppb/core/ppb.py) over the REST API, with `X-API-Key`, for
a bot running away from PPB's processes. HTTP statuses come back as the domain errors the
in-process `LocalPpb` raises (`NotFound`, `Conflict`, `Invalid`, ...; `Unavailable` for a
5xx or no answer), so the bot's handlers read the same either way."""

from __future__ import annotations

from typing import Any

import httpx

from ppb.config import Settings
from ppb.core.app import SCRAPE_TIMEOUT_S
from ppb.domain.channels import ChannelName
from ppb.domain.errors import (
    Blocked,
    Conflict,
    DomainError,
    Invalid,
    NotConfigured,
    NotFound,
    NotYetKnown,
    Unavailable,
)

TIMEOUT_S = 30.0
TRAIN_TIMEOUT_S = 60.0


KIND_OF: dict[int, type[DomainError]] = {403: Blocked, 404: NotFound, 409: Conflict, 422: Invalid, 503: Unavailable}
"""The domain error each REST status stands for, as `ppb/http/errors.py` gives them."""


def error_for(status_code: int, detail: str) -> DomainError:
    """The domain error a refused REST call stands for (409s told apart by their detail)."""
    if status_code == 409 and NotConfigured.MARK in detail.split(" (", 1)[0]:
        return NotConfigured(detail)
    if status_code == 409 and NotYetKnown.MARK in detail:
        return NotYetKnown(detail)
    return KIND_OF.get(status_code, DomainError)(detail)


def api_base_url(settings: Settings) -> str:
    """Where this deployment's API answers (the bot runs beside it)."""
    host = "127.0.0.1" if settings.http_host in {"0.0.0.0", "::", ""} else settings.http_host
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{settings.http_port}"


class HttpPpb:
    """`Ppb` over HTTP: every call is one REST call."""

    def __init__(self, base_url: str, api_key: str | None, *, timeout: float = TIMEOUT_S) -> None:
        headers = {"X-API-Key": api_key} if api_key else {}
        self._http = httpx.AsyncClient(base_url=f"{base_url.rstrip('/')}/api/v1", headers=headers, timeout=timeout)

    @classmethod
    def from_settings(cls, settings: Settings, base_url: str | None = None) -> HttpPpb:
        key = settings.api_key.get_secret_value() if settings.api_key else None
        return cls(base_url or api_base_url(settings), key)

    async def close(self) -> None:
        await self._http.aclose()

    async def _call(self, method: str, path: str, body: Any = None, timeout: float | None = None) -> Any:
        try:
            response = await self._http.request(
                method, path, json=body, timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT
            )
        except httpx.HTTPError as error:
            raise Unavailable(f"{method} {path}: {type(error).__name__}") from error
        if response.status_code >= 500:
            raise Unavailable(f"{method} {path}: {response.status_code} {_detail(response)}")
        if response.status_code >= 400:
            raise error_for(response.status_code, _detail(response))
        return response.json() if response.content else None

    # users ---------------------------------------------------------------------------

    async def register_user(self, telegram_id: int, username: str | None, first_name: str | None,
                            last_name: str | None, language: str | None = None) -> dict[str, Any]:
        body = {"telegram_id": telegram_id, "username": username, "first_name": first_name, "last_name": last_name}
        if language:
            body["language"] = language
        return await self._call("POST", "/users/", body)

    async def get_user(self, telegram_id: int) -> dict[str, Any]:
        return await self._call("GET", f"/users/{telegram_id}")

    async def event(self, telegram_id: int, event: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
        return await self._call("POST", f"/users/{telegram_id}/events", {"event": event, "details": details})

    async def set_language(self, telegram_id: int, language: str) -> dict[str, Any]:
        return await self._call("POST", "/users/", {"telegram_id": telegram_id, "language": language})

    async def channels(self, telegram_id: int) -> list[dict[str, Any]]:
        return (await self._call("GET", f"/users/{telegram_id}/channels"))["channels"]

    async def add_channel(self, telegram_id: int, channel: str, *, bonus: bool) -> dict[str, Any]:
        body = {"channel": channel, "is_for_training": True, "is_bonus": bonus}
        try:
            return await self._call("POST", f"/users/{telegram_id}/channels", body)
        except NotYetKnown as error:  # the REST API's 409 for it; in process it is a NotFound
            raise NotFound(error.detail) from None

    async def remove_channel(self, telegram_id: int, channel: str) -> None:
        await self._call("DELETE", f"/users/{telegram_id}/channels/{ChannelName.parse(channel, 'channel').key}")

    async def interactions(self, telegram_id: int) -> list[dict[str, Any]]:
        return (await self._call("GET", f"/posts/interactions/{telegram_id}"))["interactions"]

    async def rules(self, telegram_id: int) -> dict[str, Any]:
        return await self._call("GET", f"/users/{telegram_id}/rules")

    async def change_rules(self, telegram_id: int, **changes: Any) -> dict[str, Any]:
        return await self._call("PATCH", f"/users/{telegram_id}/rules", changes)

    async def export(self, telegram_id: int) -> dict[str, Any]:
        return await self._call("GET", f"/users/{telegram_id}/export")

    async def erase(self, telegram_id: int) -> None:
        await self._call("DELETE", f"/users/{telegram_id}")

    # posts and the model -------------------------------------------------------------

    async def training_posts(self, telegram_id: int, channels: list[str], per_channel: int) -> list[dict[str, Any]]:
        body = {"user_telegram_id": telegram_id, "channel_usernames": channels, "posts_per_channel": per_channel}
        return (await self._call("POST", "/posts/training", body))["posts"]

    async def rate(self, telegram_id: int, post_id: int, kind: str, *,
                   if_rated: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"user_telegram_id": telegram_id, "post_id": post_id, "interaction_type": kind}
        if if_rated is not None:
            body["if_rated"] = if_rated
        return await self._call("POST", "/posts/interactions", body, TRAIN_TIMEOUT_S)  # the last one trains

    async def train(self, telegram_id: int) -> dict[str, Any]:
        return await self._call("POST", "/ml/train", {"user_telegram_id": telegram_id}, TRAIN_TIMEOUT_S)

    async def best(self, telegram_id: int, limit: int) -> list[dict[str, Any]]:
        return (await self._call("POST", "/posts/best", {"user_telegram_id": telegram_id, "limit": limit}))["posts"]

    async def explain(self, telegram_id: int, post_id: int) -> dict[str, Any]:
        body = {"user_telegram_id": telegram_id, "post_id": post_id, "surface": "chat"}  # the ❓ under a post
        return await self._call("POST", "/posts/explain", body)

    # training and the chat's feed (one state, shared with the Mini App) ----------------

    async def training_state(self, telegram_id: int, limit: int = 1) -> dict[str, Any]:
        return await self._call("GET", f"/users/{telegram_id}/training?limit={limit}")

    async def start_training(self, telegram_id: int, channels: list[str] | None = None, *,
                             append: bool = False, refresh: bool = False) -> dict[str, Any]:
        body = {"channels": channels, "append": append, "refresh": refresh}
        timeout = TRAIN_TIMEOUT_S + (SCRAPE_TIMEOUT_S if refresh else 0.0)
        return await self._call("POST", f"/users/{telegram_id}/training", body, timeout)

    async def finish_training(self, telegram_id: int) -> dict[str, Any]:
        return await self._call("POST", f"/users/{telegram_id}/training/finish", {}, TRAIN_TIMEOUT_S)

    async def feed_page(self, telegram_id: int, limit: int) -> dict[str, Any]:
        return await self._call("POST", f"/users/{telegram_id}/feed", {"limit": limit}, TRAIN_TIMEOUT_S)

    # the scraper ---------------------------------------------------------------------

    async def join(self, channel: str) -> dict[str, Any]:
        return await self._call("POST", "/cmd/join", {"channel_username": channel}, SCRAPE_TIMEOUT_S)
"""The older name."""


def _detail(response: httpx.Response) -> str:
    try:
        return str(response.json().get("detail", response.reason_phrase))
    except ValueError:
        return response.reason_phrase
