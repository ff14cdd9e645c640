"""/help, /status, /reset, /menu, and a polite answer to anything else."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from ppb.bot.keyboards.callbacks import Menu
from ppb.bot.messages import MessageManager
from ppb.bot.views import show_menu, status_word
from ppb.config import Settings
from ppb.core.ppb import Ppb
from ppb.domain.status import UserStatus

router = Router(name="commands")

NOTICE_S = 60.0


def help_text() -> str:
    return _(
        "❓ Help\n\n"
        "/start: the main menu\n"
        "/feed: your best posts now\n"
        "/status: your progress\n"
        "/settings: delivery, digest, time zone, quiet hours, muted words, ads\n"
        "/export: all your data as a file\n"
        "/delete: delete all your data\n"
        "/reset: start the menu afresh\n"
        "/help: this message\n\n"
        "Send @channel or a t.me link to add a channel of your own."
    )


@router.message(Command("help"))
async def help_command(message: Message, messages: MessageManager) -> None:
    await messages.delete_incoming(message.chat.id, message.message_id)
    await messages.clear_ephemeral(message.chat.id)
    await messages.send_ephemeral(message.chat.id, help_text(), auto_delete_after=NOTICE_S)


@router.callback_query(Menu.filter(F.action == "help"))
async def help_button(query: CallbackQuery, messages: MessageManager) -> None:
    await query.answer()
    await messages.clear_ephemeral(query.from_user.id)
    await messages.send_ephemeral(query.from_user.id, help_text(), auto_delete_after=NOTICE_S)


@router.message(Command("status"))
async def status(message: Message, api: Ppb, messages: MessageManager, settings: Settings) -> None:
    await messages.delete_incoming(message.chat.id, message.message_id)
    user = await api.get_user(message.chat.id)
    ratings = len(await api.interactions(message.chat.id))
    text = _(
        "Status: {status}\nRatings: {ratings}\nBonus channels: {bonus} of {limit}"
    ).format(status=status_word(user["status"]), ratings=ratings,
             bonus=user["bonus_channels_count"], limit=settings.max_bonus_channels)
    if user["status"] == UserStatus.TRAINING:
        training = await api.training_state(message.chat.id)
        text += "\n" + ngettext("Training: {done} of {total} post rated", "Training: {done} of {total} posts rated",
                                 training["total"]).format(done=training["done"], total=training["total"])
    await messages.clear_ephemeral(message.chat.id)
    await messages.send_ephemeral(message.chat.id, text, auto_delete_after=NOTICE_S)


@router.message(Command("reset"))
async def reset(message: Message, api: Ppb, messages: MessageManager, state: FSMContext,
                webapp_url: str | None) -> None:
    await messages.delete_incoming(message.chat.id, message.message_id)
    await state.clear()
    await messages.clear_ephemeral(message.chat.id)
    await messages.drop_system(message.chat.id)
    user = await api.get_user(message.chat.id)
    await show_menu(messages, message.chat.id, user, webapp_url, api=api)
    if user["status"] == UserStatus.TRAINING:  # what stays and what a person can do now
        await messages.send_ephemeral(message.chat.id, _(
            "🔄 Reset. Your ratings are kept: continue where you were, finish now, or start training over."),
            auto_delete_after=NOTICE_S)


@router.message(Command("menu"))
async def menu(message: Message, api: Ppb, messages: MessageManager, webapp_url: str | None) -> None:
    await messages.delete_incoming(message.chat.id, message.message_id)
    await show_menu(messages, message.chat.id, await api.get_user(message.chat.id), webapp_url, api=api)


@router.message()
async def anything_else(message: Message, messages: MessageManager) -> None:
    await messages.delete_incoming(message.chat.id, message.message_id)
    await messages.clear_ephemeral(message.chat.id)
    await messages.send_ephemeral(message.chat.id, _("I didn't get that. Use the menu, or /help."),
                                  auto_delete_after=NOTICE_S)


@router.callback_query()
async def unknown_button(query: CallbackQuery) -> None:
    await query.answer(_("This button is no longer active"))
