"""The bot's side of webhook mode: where Telegram (or the sandbox) is told to POST updates,
the secret it sends with each, and registering both (with the bot's commands and menu
button) once."""

from __future__ import annotations

import hashlib

from ppb.bot.api import api_base_url
from ppb.bot.app import bot_token
from ppb.config import Settings

PATH = "/telegram/webhook"


def webhook_secret(settings: Settings) -> str:
    """WEBHOOK_SECRET, else one derived from the bot token (Telegram allows [A-Za-z0-9_-])."""
    if settings.webhook_secret is not None:
        return settings.webhook_secret.get_secret_value()
    return hashlib.sha256(f"ppb-webhook:{bot_token(settings)}".encode()).hexdigest()


def webhook_url(settings: Settings) -> str:
    return settings.webhook_url or f"{api_base_url(settings)}{PATH}"


async def register_webhook(settings: Settings) -> None:
    """Point the Bot API at this deployment's webhook and set the bot's commands and menu button (run by the
    `parts` keeper, ppb/actors/parts.py; polling sets them when it starts)."""
    from ppb.bot.app import build_bot, prepare_bot, webapp_url

    bot = build_bot(settings)
    try:
        await bot.set_webhook(webhook_url(settings), secret_token=webhook_secret(settings), drop_pending_updates=False)
        await prepare_bot(bot, webapp_url(settings))
    finally:
        await bot.session.close()
