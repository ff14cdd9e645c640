"""/start: register the person, move a new one to onboarding, show the menu that fits."""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.filters import CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from ppb.bot.handlers.training import show_card
from ppb.bot.keyboards import menus
from ppb.bot.keyboards.callbacks import Menu
from ppb.bot.languages import Languages
from ppb.bot.messages import MessageManager
from ppb.bot.views import show_menu
from ppb.core.ppb import Ppb
from ppb.domain.languages import language_code
from ppb.domain.status import UserEvent, UserStatus

router = Router(name="start")


async def register(api: Ppb, languages: Languages, message: Message) -> dict[str, Any]:
    """The person, registered on first sight (a new one moved on to onboarding); `languages`
    learns they are registered. One this update found unregistered is signed up with their
    Telegram's language (else it is stored at their next update, as for anyone without one)."""
    person = message.from_user
    assert person is not None
    language = language_code(person.language_code) if languages.stranger(person.id) else None
    user = await api.register_user(person.id, person.username, person.first_name, person.last_name,
                                   language or None)
    if user["status"] == UserStatus.NEW:
        user = await api.event(person.id, UserEvent.START)
    languages.learn(user)
    return user


@router.message(CommandStart())
async def start(message: Message, api: Ppb, messages: MessageManager, state: FSMContext,
                languages: Languages, webapp_url: str | None) -> None:
    """Always answers: the welcome, the card that is next in training, or the main menu."""
    user = await register(api, languages, message)
    await messages.delete_incoming(message.chat.id, message.message_id)
    await state.set_state(None)  # a prompt left open (add a channel) is over
    if user["status"] == UserStatus.TRAINING:
        await messages.clear_ephemeral(message.chat.id)
        await show_card(message.chat.id, api, messages, webapp_url, at_bottom=True)
        return
    await show_menu(messages, message.chat.id, user, webapp_url, api=api)


@router.callback_query(Menu.filter(F.action == "how"))
async def how_it_works(query: CallbackQuery, messages: MessageManager) -> None:
    text = _(
        "ℹ️ How it works\n\n"
        "1. You rate posts from a few channels: 👍 like, 👎 dislike, ⏩ skip.\n"
        "2. I train a model on your ratings.\n"
        "3. Your feed shows the best new posts first, and every rating makes it better.\n\n"
        "Add your own channels at any time with ➕."
    )
    await query.answer()
    await messages.transition_to_system(query.from_user.id, text, menus.how_it_works())


@router.callback_query(Menu.filter(F.action == "home"))
async def home(query: CallbackQuery, api: Ppb, messages: MessageManager, state: FSMContext,
               webapp_url: str | None) -> None:
    await query.answer()
    await state.set_state(None)
    await messages.clear_ephemeral(query.from_user.id)
    user = await api.get_user(query.from_user.id)
    await show_menu(messages, query.from_user.id, user, webapp_url, at_bottom=False, api=api)
