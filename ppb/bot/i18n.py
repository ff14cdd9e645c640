"""Texts in English and Russian through aiogram's gettext i18n, in the language the person
reads: their stored one (`users.language`, through `Languages`), else their Telegram's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware

from ppb.bot.languages import Languages
from ppb.domain.languages import DEFAULT, LANGUAGES

__all__ = ["DEFAULT", "LANGUAGES", "LocaleMiddleware", "build_i18n"]

LOCALES = Path(__file__).parent / "locales"
DOMAIN = "messages"


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


class LocaleMiddleware(I18nMiddleware):
    """The person's language, as `Languages` reads it from the store."""

    def __init__(self, i18n: I18n, languages: Languages) -> None:
        super().__init__(i18n)
        self.languages = languages

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        user: User | None = data.get("event_from_user")
        if user is None or user.is_bot:
            return DEFAULT
        return await self.languages.of(user)
