"""The languages PPB speaks, and the one rule every path uses (the chat, pushes, nudges,
digests, the Mini App): the person's stored language, else their Telegram's; a person whose
code is Ukrainian, Belarusian or Kazakh reads Russian; anyone else, English."""

from __future__ import annotations

import re
from typing import Literal

Language = Literal["en", "ru"]
LANGUAGES: tuple[Language, ...] = ("en", "ru")
DEFAULT: Language = "en"
READS_RUSSIAN = ("ru", "uk", "be", "kk")
"""Telegram language codes whose speakers get Russian (the Mini App's i18n.js mirrors this)."""
_CODE = re.compile(r"^[a-z]{2,3}")


def language_code(code: str | None) -> str | None:
    """The bare language of an IETF tag (`pt-br` → `pt`), for the person's profile."""
    match = _CODE.match((code or "").lower())
    return match.group(0) if match else None


def spoken(code: str | None) -> Language:
    """The language PPB speaks to someone whose Telegram (or profile) says `code`."""
    chosen = (code or "").lower()
    if chosen in LANGUAGES:
        return chosen  # type: ignore[return-value]
    return "ru" if language_code(chosen) in READS_RUSSIAN else DEFAULT


def ui_language(*codes: str | None) -> Language:
    """The first of `codes` that is set, as `spoken` reads it."""
    for code in codes:
        if code:
            return spoken(code)
    return DEFAULT
