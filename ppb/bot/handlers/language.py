"""Language: 🇬🇧 / 🇷🇺, stored in the person's profile (`users.language`), which every path reads."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from ppb.bot.i18n import LANGUAGES
from ppb.bot.keyboards import menus
from ppb.bot.keyboards.callbacks import Lang, Menu
from ppb.bot.languages import Languages
from ppb.bot.messages import MessageManager
from ppb.bot.views import show_menu
from ppb.core.ppb import Ppb

router = Router(name="language")


@router.callback_query(Menu.filter(F.action == "lang"))
async def choose(query: CallbackQuery, messages: MessageManager) -> None:
    await query.answer()
    await messages.transition_to_system(query.from_user.id, _("🌐 Choose your language:"), menus.languages())


@router.callback_query(Lang.filter(F.code.in_(set(LANGUAGES))))
async def switch(query: CallbackQuery, callback_data: Lang, api: Ppb, messages: MessageManager,
                 languages: Languages, i18n: I18n, webapp_url: str | None) -> None:
    user = await api.set_language(query.from_user.id, callback_data.code)
    languages.learn(user)
    i18n.current_locale = callback_data.code
    await query.answer(_("Language: English") if callback_data.code == "en" else _("Language: Russian"))
    await show_menu(messages, query.from_user.id, user, webapp_url, at_bottom=False, api=api)
