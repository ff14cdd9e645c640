"""When PPB's API (or its database) is down, or anything fails: a short apology in the
chat, never silence or a stack trace; a person an operator blocked is told so plainly."""

from __future__ import annotations

import logging

from aiogram import Bot, Router
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import gettext as _

from ppb.bot.messages import MessageManager
from ppb.domain.errors import Blocked, Unavailable

log = logging.getLogger("ppb.bot")
router = Router(name="errors")

APOLOGY_S = 60.0


async def apologize(event: ErrorEvent, bot: Bot, messages: MessageManager, text: str) -> None:
    update = event.update
    query = update.callback_query
    chat_id = (query.from_user.id if query else None) or (update.message.chat.id if update.message else None)
    if query is not None:
        try:
            await bot.answer_callback_query(query.id, text=text)
        except Exception:  # already answered before the failure
            pass
    try:
        if chat_id is not None:
            await messages.clear_ephemeral(chat_id)
            await messages.send_ephemeral(chat_id, text, auto_delete_after=APOLOGY_S)
    except Exception as error:  # the apology itself failed (Telegram down): log, stay quiet
        log.warning("could not apologize in %s: %s", chat_id, error)


@router.errors(ExceptionTypeFilter(Unavailable))
async def api_down(event: ErrorEvent, bot: Bot, messages: MessageManager) -> None:
    log.warning("PPB API unavailable: %s", event.exception)
    await apologize(event, bot, messages,
                    _("😔 PPB is having trouble right now. Please try again in a minute."))


@router.errors(ExceptionTypeFilter(Blocked))
async def blocked(event: ErrorEvent, bot: Bot, messages: MessageManager) -> None:
    """An operator blocked the person: said plainly, not as a failure to try again."""
    await apologize(event, bot, messages, _(
        "🚫 The people who run this bot have blocked your account, so I can't show you posts. "
        "If you think this is a mistake, write to them."))


@router.errors()
async def anything(event: ErrorEvent, bot: Bot, messages: MessageManager) -> None:
    log.exception("update %s failed", event.update.update_id, exc_info=event.exception)
    await apologize(event, bot, messages, _("😔 Something went wrong. Please try again."))
