"""Delivering a nudge: the post as a feed message (it stays, with rating buttons), tagged in
the chat's registry so a restarted nudger can tell it was already delivered."""

from __future__ import annotations

import time

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.utils.i18n import I18n

from ppb.bot.keyboards import menus
from ppb.bot.messages import Registry
from ppb.bot.posts import nudge_message
from ppb.core.ports import Undeliverable
from ppb.domain.languages import ui_language
from ppb.domain.messages import ManagedMessage, MessageType


def nudge_tag(post_id: int) -> str:
    return f"nudge:{post_id}"


class BotNudgeSender:
    """`NudgeSender` over the bot: Telegram (or the sandbox) and the chat registries."""

    def __init__(self, bot: Bot, registry: Registry, i18n: I18n) -> None:
        self._bot = bot
        self._registry = registry
        self._i18n = i18n

    async def send_nudge(self, telegram_id: int, language: str | None, post: dict) -> int:
        with self._i18n.context(), self._i18n.use_locale(ui_language(language)):
            text, markup = nudge_message(post), menus.feed_post(post["id"])
        try:
            sent = await self._bot.send_message(telegram_id, text, reply_markup=markup)
        except TelegramForbiddenError as error:  # blocked by the user
            raise Undeliverable(error.message) from error
        except TelegramBadRequest as error:
            if "chat not found" in error.message.lower():
                raise Undeliverable(error.message) from error
            raise
        await self._registry.register(
            ManagedMessage(telegram_id, sent.message_id, MessageType.ONETIME, nudge_tag(post["id"]), time.time())
        )
        return sent.message_id

    async def find_nudge(self, telegram_id: int, post_id: int) -> int | None:
        found = await self._registry.get_latest(telegram_id, MessageType.ONETIME, nudge_tag(post_id))
        return found.message_id if found is not None else None
