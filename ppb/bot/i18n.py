"""Texts in English and Russian through aiogram's gettext i18n; the locale a person chose
is kept in the FSM storage under its own destiny, so clearing a flow keeps it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiogram.fsm.storage.base import BaseStorage, StorageKey
from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware

from ppb.domain.languages import DEFAULT, LANGUAGES, spoken

__all__ = ["DEFAULT", "LANGUAGES", "LocaleMiddleware", "build_i18n", "from_telegram", "remember_locale"]

LOCALES = Path(__file__).parent / "locales"
DOMAIN = "messages"
DESTINY = "locale"


def compile_catalogs(path: Path = LOCALES) -> list[Path]:
    """Compile each `.po` whose `.mo` is missing or older; returns the files written.

    A developer's step (`make catalogs`, after editing a `.po`): the `.mo` files are
    committed, and PPB never writes into its own package at run time."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written = []
    for po in sorted(path.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as source:
            catalog = read_po(source, locale=po.parent.parent.name)
        with mo.open("wb") as target:
            write_mo(target, catalog)
        written.append(mo)
    return written


def build_i18n() -> I18n:
    return I18n(path=LOCALES, default_locale=DEFAULT, domain=DOMAIN)


def locale_key(bot_id: int, user_id: int) -> StorageKey:
    return StorageKey(bot_id=bot_id, chat_id=user_id, user_id=user_id, destiny=DESTINY)


def from_telegram(user: User | None) -> str:
    return spoken(user.language_code if user else None)


async def remember_locale(storage: BaseStorage, bot_id: int, user_id: int, locale: str) -> None:
    await storage.set_data(locale_key(bot_id, user_id), {"locale": locale})


class LocaleMiddleware(I18nMiddleware):
    """The chosen language, else the one Telegram reports for the person."""

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        user: User | None = data.get("event_from_user")
        storage: BaseStorage | None = data.get("fsm_storage")
        bot = data.get("bot")
        if user is not None and storage is not None and bot is not None:
            chosen = (await storage.get_data(locale_key(bot.id, user.id))).get("locale")
            if chosen in LANGUAGES:
                return str(chosen)
        return from_telegram(user)
