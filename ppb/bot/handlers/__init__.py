"""The bot's routers, one per flow, in the order they are tried (catch-alls last)."""

from __future__ import annotations

from aiogram import Router

from ppb.bot.handlers import channels, commands, errors, feed, language, start, training


def get_routers() -> list[Router]:
    return [
        errors.router,
        start.router,
        language.router,
        training.router,
        feed.router,
        channels.router,
        commands.router,
    ]
