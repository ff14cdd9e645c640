"""Every text the bot shows exists in English and Russian, and the compiled catalogs match."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from ppb.bot.i18n import LANGUAGES, LOCALES, build_i18n

BOT = Path(__file__).resolve().parent.parent / "ppb" / "bot"
FIELD = re.compile(r"\{(\w+)\}")


def source_texts() -> set[str]:
    return {
        message
        for _, _, message, _, _ in extract_from_dir(str(BOT), keywords={"_": None, "__": None})
        if isinstance(message, str)
    }


def catalog(language: str) -> dict[str, str]:
    with (LOCALES / language / "LC_MESSAGES" / "messages.po").open("rb") as source:
        return {m.id: m.string for m in read_po(source) if m.id}


def test_the_source_has_texts() -> None:
    assert len(source_texts()) > 40


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_text_is_translated(language: str) -> None:
    texts, translated = source_texts(), catalog(language)
    missing = sorted(texts - {key for key, value in translated.items() if value})
    assert missing == [], f"{language}: untranslated {missing}"
    stale = sorted(set(translated) - texts)
    assert stale == [], f"{language}: texts no longer in the code {stale}"
    for key, value in translated.items():
        assert set(FIELD.findall(key)) == set(FIELD.findall(value)), f"{language}: placeholders of {key!r}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalog_matches_the_source_catalog(language: str) -> None:
    build_i18n()
    compiled = read_mo(io.BytesIO((LOCALES / language / "LC_MESSAGES" / "messages.mo").read_bytes()))
    assert {m.id: m.string for m in compiled if m.id} == catalog(language)


def test_russian_differs_from_english_and_i18n_serves_both() -> None:
    i18n = build_i18n()
    assert set(i18n.available_locales) == set(LANGUAGES)
    english, russian = catalog("en"), catalog("ru")
    assert all(english[key] == key for key in english)
    assert sum(russian[key] != key for key in russian) >= len(russian) - 2
    assert i18n.gettext("🔁 Retrain", locale="ru") == "🔁 Переобучить"
