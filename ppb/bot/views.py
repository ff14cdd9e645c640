"""Screens shared by several flows: the menu that fits a person's status."""

from __future__ import annotations

from typing import Any

from aiogram import html
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from ppb.bot.keyboards import menus
from ppb.bot.messages import MessageManager

TRAINED = {"trained", "active", "churned"}


def menu_view(user: dict[str, Any], webapp_url: str | None) -> tuple[str, InlineKeyboardMarkup]:
    name = html.quote(user.get("first_name") or user.get("username") or "")
    if user["status"] in {"new", "onboarding"}:
        text = _(
            "👋 Hi, {name}! I'm PPB: I turn the channels you follow into one feed ranked for you.\n\n"
            "Rate a few posts and I'll learn what you like."
        ).format(name=name)
        return text, menus.welcome()
    if user["status"] == "training":
        return _("📚 Your training is not finished yet."), menus.resume_training(webapp_url)
    return _("🏠 Main menu. What would you like to do?"), menus.main_menu()


async def show_menu(messages: MessageManager, chat_id: int, user: dict[str, Any],
                    webapp_url: str | None, *, at_bottom: bool = True) -> None:
    text, markup = menu_view(user, webapp_url)
    await messages.transition_to_system(chat_id, text, markup, at_bottom=at_bottom)
