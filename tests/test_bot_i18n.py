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


Text = str | tuple[str, ...]
"""A message id: one text, or (singular, plural) for a count (`ngettext`)."""


def source_texts() -> set[Text]:
    return {
        message
        for _, _, message, _, _ in extract_from_dir(
            str(BOT), keywords={"_": None, "__": None, "ngettext": (1, 2)})
        if isinstance(message, str | tuple)
    }


def catalog(language: str) -> dict[Text, Text]:
    with (LOCALES / language / "LC_MESSAGES" / "messages.po").open("rb") as source:
        return {_text(m.id): _text(m.string) for m in read_po(source) if m.id}


def _text(value: object) -> Text:
    return value if isinstance(value, str) else tuple(value)  # type: ignore[arg-type]


def fields(text: Text) -> list[set[str]]:
    return [set(FIELD.findall(form)) for form in ((text,) if isinstance(text, str) else text)]


def test_the_source_has_texts() -> None:
    assert len(source_texts()) > 40


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_text_is_translated(language: str) -> None:
    texts, translated = source_texts(), catalog(language)
    missing = sorted(map(str, texts - {key for key, value in translated.items() if value and all(value)}))
    assert missing == [], f"{language}: untranslated {missing}"
    stale = sorted(map(str, set(translated) - texts))
    assert stale == [], f"{language}: texts no longer in the code {stale}"
    for key, value in translated.items():
        wanted = set().union(*fields(key))
        assert all(found == wanted for found in fields(value)), f"{language}: placeholders of {key!r}"


def test_counts_take_the_plural_form_of_each_language() -> None:
    """Russian has three forms (1 пост, 3 поста, 5 постов), English two."""
    i18n = build_i18n()
    singular, plural = "🗞 Your digest: {count} new post for you", "🗞 Your digest: {count} new posts for you"
    said = {(locale, n): i18n.gettext(singular, plural, n, locale=locale).format(count=n)
            for locale in LANGUAGES for n in (1, 3, 5, 21)}
    assert said[("en", 1)].endswith("1 new post for you") and said[("en", 5)].endswith("5 new posts for you")
    assert said[("ru", 1)].endswith("1 новый пост для тебя") and said[("ru", 21)].endswith("21 новый пост для тебя")
    assert said[("ru", 3)].endswith("3 новых поста для тебя") and said[("ru", 5)].endswith("5 новых постов для тебя")


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalog_matches_the_source_catalog(language: str) -> None:
    build_i18n()
    compiled = read_mo(io.BytesIO((LOCALES / language / "LC_MESSAGES" / "messages.mo").read_bytes()))
    assert {_text(m.id): _text(m.string) for m in compiled if m.id} == catalog(language)


def test_russian_differs_from_english_and_i18n_serves_both() -> None:
    i18n = build_i18n()
    assert set(i18n.available_locales) == set(LANGUAGES)
    english, russian = catalog("en"), catalog("ru")
    assert all(english[key] == key for key in english)
    assert sum(russian[key] != key for key in russian) >= len(russian) - 2
    assert i18n.gettext("🔁 Retrain", locale="ru") == "🔁 Переобучить"


FORMAL = re.compile(r"\b(?:вы|вас|вам|вами|ваш\w*)\b|\b\w+(?:йте|ьте|ите)\b", re.IGNORECASE)
"""The polite plural (вы, ваш…, откройте, загляните): PPB says ты to a person everywhere."""


def russian_texts() -> list[str]:
    """Every Russian text a person reads: the bot's catalogue and the Mini App's."""
    texts: list[str] = []
    for value in catalog("ru").values():
        texts += [value] if isinstance(value, str) else list(value)
    source = (BOT.parent / "miniapp" / "i18n.js").read_text()
    texts += re.findall(r'"([^"]*[а-яё][^"]*)"', source[source.index("    ru: {"):])
    return texts


def test_russian_says_ty_everywhere_never_vy() -> None:
    formal = {match.group(0): text for text in russian_texts() for match in FORMAL.finditer(text)}
    assert formal == {}, f"formal address in: {formal}"


@pytest.mark.parametrize(("n", "said"), [(1, "Я учёл 1 оценку."), (3, "Я учёл 3 оценки."), (5, "Я учёл 5 оценок."),
                                         (21, "Я учёл 21 оценку.")])
def test_counts_are_written_as_a_person_would(n: int, said: str) -> None:
    i18n = build_i18n()
    text = i18n.gettext("✅ Training complete! I learned from {count} rating.",
                        "✅ Training complete! I learned from {count} ratings.", n, locale="ru").format(count=n)
    assert text.endswith(said)


def test_no_count_hides_behind_a_genitive_label() -> None:
    """Not "Я учёл оценок: 5" or "ждут: 3": a count stands in the sentence, in its plural form."""
    awkward = [text for text in russian_texts()
               if re.search(r"(?:оценок|постов|каналов|бонусных|ждут): \{", text, re.IGNORECASE)]
    assert awkward == []


def test_why_speaks_the_person_s_language_and_fits_an_alert() -> None:
    from ppb.bot.handlers.why import ALERT_CHARS, why_text

    found = {"reasons": [
        {"kind": "must", "detail": "релиз", "posts": []},
        {"kind": "liked", "detail": "", "posts": [{"id": 1, "quote": "Ракета " * 30}]},
        {"kind": "text", "detail": "", "posts": [{"id": 1, "quote": "Ракета " * 30}]},
        {"kind": "peers", "detail": "", "posts": []},
        {"kind": "dial", "detail": "@space", "posts": []},
    ]}
    i18n = build_i18n()
    with i18n.context(), i18n.use_locale("ru"):
        russian = why_text(found)
        nothing = why_text({"reasons": []})
    with i18n.context(), i18n.use_locale("en"):
        english = why_text(found)
    assert russian.splitlines()[:3] == ["Почему этот пост:", "📌 В нём твоё важное слово «релиз».",
                                        "👍 Похож на пост, который тебе понравился: «" + ("Ракета " * 30)[:47].rstrip() + "…»"]
    assert "✍️ Написан как посты, которые тебе понравились." in russian, "a liked post is quoted once"
    assert english.startswith("Why this post:\n📌 It has your must-see word “релиз”.")
    assert len(russian) <= ALERT_CHARS and len(english) <= ALERT_CHARS
    assert nothing.startswith("Ничего особенного")
