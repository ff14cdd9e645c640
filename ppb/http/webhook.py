"""Webhook mode: Telegram (or the sandbox) POSTs updates to `/telegram/webhook`, checked
with `X-Telegram-Bot-Api-Secret-Token`; each Api replica runs the same Dispatcher."""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ppb.config import Settings
from ppb.http.errors import error_response

log = logging.getLogger("ppb.webhook")
PATH = "/telegram/webhook"


def webhook_secret(settings: Settings) -> str:
    """WEBHOOK_SECRET, else one derived from the bot token (Telegram allows [A-Za-z0-9_-])."""
    if settings.webhook_secret is not None:
        return settings.webhook_secret.get_secret_value()
    from ppb.bot.app import bot_token

    return hashlib.sha256(f"ppb-webhook:{bot_token(settings)}".encode()).hexdigest()


def webhook_url(settings: Settings) -> str:
    from ppb.bot.api import api_base_url

    return settings.webhook_url or f"{api_base_url(settings)}{PATH}"


def mount_webhook(app: Starlette, settings: Settings) -> None:
    """Add the webhook route (webhook mode); the bot is built on the first update."""
    import ray

    secret = webhook_secret(settings).encode()
    state: dict[str, Any] = {}

    async def receive(request: Request) -> Response:
        given = request.headers.get("x-telegram-bot-api-secret-token", "").encode()
        if not hmac.compare_digest(given, secret):
            return error_response(401, "X-Telegram-Bot-Api-Secret-Token: missing or wrong")
        if "bot" not in state:
            from ppb.bot.app import build_bot_app, build_registry

            state["bot"] = app.state.webhook_bot = build_bot_app(
                settings, registry=build_registry(settings, actors=ray.is_initialized())
            )
        bot_app = state["bot"]
        try:
            update = await request.json()
        except ValueError:
            return error_response(400, "the body must be a JSON update")
        await bot_app.dispatcher.feed_webhook_update(bot_app.bot, update)
        return JSONResponse({})

    app.router.routes.append(Route(PATH, receive, methods=["POST"]))


async def register_webhook(settings: Settings) -> None:
    """Point the Bot API at this deployment's webhook (run by the `parts` keeper, ppb/actors/parts.py)."""
    from ppb.bot.app import build_bot

    bot = build_bot(settings)
    try:
        await bot.set_webhook(webhook_url(settings), secret_token=webhook_secret(settings), drop_pending_updates=False)
    finally:
        await bot.session.close()
