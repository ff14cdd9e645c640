"""Webhook mode: Telegram (or the sandbox) POSTs updates to `/telegram/webhook`, checked
with `X-Telegram-Bot-Api-Secret-Token`; each Api replica runs the same Dispatcher."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ppb.bot.webhook import PATH, register_webhook, webhook_secret, webhook_url
from ppb.config import Settings
from ppb.http.errors import error_response

__all__ = ["PATH", "mount_webhook", "register_webhook", "webhook_secret", "webhook_url"]

log = logging.getLogger("ppb.webhook")


def mount_webhook(app: Starlette, settings: Settings, build_bot_app: Callable[[], Any]) -> None:
    """Add the webhook route (webhook mode); the bot (`build_bot_app()`, calling this
    replica's core in process) is built on the first update."""
    secret = webhook_secret(settings).encode()
    state: dict[str, Any] = {}

    async def receive(request: Request) -> Response:
        given = request.headers.get("x-telegram-bot-api-secret-token", "").encode()
        if not hmac.compare_digest(given, secret):
            return error_response(401, "X-Telegram-Bot-Api-Secret-Token: missing or wrong")
        if "bot" not in state:
            state["bot"] = app.state.webhook_bot = build_bot_app()
        bot_app = state["bot"]
        try:
            update = await request.json()
        except ValueError:
            return error_response(400, "the body must be a JSON update")
        await bot_app.dispatcher.feed_webhook_update(bot_app.bot, update)
        return JSONResponse({})

    app.router.routes.append(Route(PATH, receive, methods=["POST"]))
