"""Screens shared by several flows: the menu that fits a person's status."""

from __future__ import annotations

from typing import Any

from aiogram import html
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from ppb.bot.keyboards import menus
from ppb.bot.messages import MessageManager
from ppb.core.ppb import Ppb
from ppb.domain.status import UserStatus

TRAINED = {UserStatus.TRAINED, UserStatus.ACTIVE, UserStatus.CHURNED}


def status_word(status: str) -> str:
    """A status as a person reads it, in their language."""
    words = {
        UserStatus.NEW: _("🆕 new here"), UserStatus.ONBOARDING: _("👋 getting started"), UserStatus.TRAINING: _("📚 in training"),
        UserStatus.TRAINED: _("✅ trained, your feed is ready"), UserStatus.ACTIVE: _("📰 reading your feed"),
        UserStatus.CHURNED: _("💤 away for a while"),
    }
    return words.get(status, status)


def menu_view(user: dict[str, Any], webapp_url: str | None,
              training: dict[str, Any] | None = None) -> tuple[str, InlineKeyboardMarkup]:
    name = html.quote(user.get("first_name") or user.get("username") or "")
    if user["status"] in {UserStatus.NEW, UserStatus.ONBOARDING}:
        text = _(
            "👋 Hi, {name}! I'm PPB: I turn the channels you follow into one feed ranked for you.\n\n"
            "Rate a few posts and I'll learn what you like."
        ).format(name=name)
        return text, menus.welcome()
    if user["status"] == UserStatus.TRAINING:
        done, total = (training or {}).get("done", 0), (training or {}).get("total", 0)
        text = ngettext("📚 Training: {done} of {total} post rated.", "📚 Training: {done} of {total} posts rated.",
                        total).format(done=done, total=total)
        if user.get("is_trained"):
            text += "\n" + _("Your feed stays readable until you finish.")
        can_finish = bool((training or {}).get("can_finish"))
        return text, menus.training_menu(can_finish, bool(user.get("is_trained")), webapp_url)
    return _("🏠 Main menu. What would you like to do?"), menus.main_menu(webapp_url)


async def show_menu(messages: MessageManager, chat_id: int, user: dict[str, Any],
                    webapp_url: str | None, *, at_bottom: bool = True, api: Ppb | None = None) -> None:
    training = await api.training_state(chat_id) if api is not None and user["status"] == UserStatus.TRAINING else None
    text, markup = menu_view(user, webapp_url, training)
    await messages.transition_to_system(chat_id, text, markup, at_bottom=at_bottom)
