"""The bot's `.mo` catalogs are committed and current: PPB never compiles them at run time
(it must not write into its own package), so a `.po` edited without `make catalogs` fails here."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from ppb.bot.i18n import DOMAIN, LOCALES, build_i18n

CATALOGS = sorted(LOCALES.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


def _messages(catalog: object) -> dict[object, object]:
    return {_text(message.id): _text(message.string) for message in catalog if message.id}  # type: ignore[attr-defined]


def _text(value: object) -> object:
    """A plural message's id and strings come as a tuple from a .po and a list from a .mo."""
    return value if isinstance(value, str) else tuple(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("po", CATALOGS, ids=[po.parent.parent.name for po in CATALOGS])
def test_each_mo_matches_its_po(po: Path) -> None:
    mo = po.with_suffix(".mo")
    assert mo.exists(), f"{mo.name} for {po.parent.parent.name} is missing: run make catalogs"
    with po.open("rb") as source:
        expected = _messages(read_po(source, locale=po.parent.parent.name))
    with mo.open("rb") as source:
        compiled = _messages(read_mo(source))
    assert compiled == expected, f"{mo} is stale: run make catalogs"


def test_building_the_bot_i18n_writes_nothing() -> None:
    before = {path: path.stat().st_mtime_ns for path in LOCALES.rglob("*")}
    i18n = build_i18n()
    assert set(i18n.locales) >= {"en", "ru"}
    assert {path: path.stat().st_mtime_ns for path in LOCALES.rglob("*")} == before
