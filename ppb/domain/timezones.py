"""Finding a time zone from what a person types: an IANA name (`Europe/Moscow`), a city
(`Moscow`, `Москва`, `new york`), a country (`Germany`, `Казахстан`) or an offset (`UTC+3`).

The names come from the libraries: zoneinfo's zones (their last part is a city) and Babel's
CLDR data, which names each zone's city and each country in English and Russian and lists
a country's zones. A country with zones of different offsets is not one answer: the person
is asked for their city, with a few of that country's cities as examples.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from babel.core import Locale, get_global

NAME_LOCALES = ("en", "ru")
"""The languages whose city and country names are looked up (those PPB speaks)."""
EXAMPLES = 5
"""Cities named when a country has several zones."""
SHORT_NAMES = {"US": ("США", "Америка", "America"), "GB": ("UK", "Англия", "Британия", "England", "Britain"),
               "AE": ("ОАЭ", "UAE")}
"""Country names people type that CLDR's do not include (it says Соединенные Штаты)."""
_OFFSET = re.compile(r"^(?:utc|gmt)?\s*([+-])\s*(\d{1,2})(?::?(00))?$")
_SEASONS = (datetime(2024, 1, 15, 12), datetime(2024, 7, 15, 12))
"""Two instants a year apart in season: zones with the same offsets at both keep the same time."""


@dataclass(frozen=True, slots=True)
class ZoneMatch:
    zone: str | None  # the one zone meant, or None
    choices: tuple[str, ...] = ()  # a country's zones of different times, when that is what was typed

    @property
    def found(self) -> bool:
        return self.zone is not None


def find_timezone(text: str) -> ZoneMatch:
    """The zone `text` names; several (`choices`) for a country whose zones differ; neither
    when nothing matches."""
    key = _key(text)
    if not key:
        return ZoneMatch(None)
    offset = _OFFSET.match(re.sub(r"\s+", "", text.casefold()))
    if offset is not None:
        return ZoneMatch(_etc_zone(offset.group(1), int(offset.group(2))))
    exact = _exact().get(text.strip().casefold())
    if exact is not None:
        return ZoneMatch(exact)
    zones = _names().get(key)
    if not zones:
        return ZoneMatch(None)
    distinct = _one_per_time(tuple(sorted(zones, key=_west_to_east)))
    if len(distinct) == 1:
        return ZoneMatch(distinct[0])
    return ZoneMatch(None, distinct)


def city_name(zone: str, language: str) -> str:
    """The zone's city as `language` names it (`Europe/Moscow` in Russian: Москва)."""
    names = Locale.parse(language).time_zones.get(zone) or {}
    city = names.get("city") if hasattr(names, "get") else None
    return str(city) if city else zone.rsplit("/", 1)[-1].replace("_", " ")


def examples(choices: tuple[str, ...], language: str) -> list[str]:
    """A few of `choices`' cities, the best known, west to east, for a question (`Калининград,
    Москва, …`)."""
    best = sorted(choices, key=lambda zone: -_renown().get(zone, 0))[:EXAMPLES]
    return [city_name(zone, language) for zone in choices if zone in best]


def _key(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold().replace("ё", "е")
    text = re.sub(r"[\s_\-‐–—]+", " ", text)
    return text.strip(" .,;:!?\"'«»“”")


def _etc_zone(sign: str, hours: int) -> str | None:
    if hours == 0:
        return "UTC"
    if hours > 14:
        return None
    return f"Etc/GMT{'-' if sign == '+' else '+'}{hours}"  # POSIX: Etc/GMT-3 is three hours ahead


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


@lru_cache(maxsize=1)
def _exact() -> dict[str, str]:
    """IANA names in any case, kept as they are (UTC stays UTC)."""
    return {zone.casefold(): zone for zone in _zones()}


def _canonical(zone: str) -> str | None:
    """The zone's current name (Europe/Kiev is Europe/Kyiv), if this system has it."""
    name = get_global("zone_aliases").get(zone, zone)
    if name in _zones():
        return name
    return zone if zone in _zones() else None


@lru_cache(maxsize=1)
def _names() -> dict[str, tuple[str, ...]]:
    """Every name a person may type, keyed as `_key` reads it, with the zones it names."""
    found: dict[str, set[str]] = {}

    def add(name: str, zone: str) -> None:
        canonical = _canonical(zone)
        if canonical is not None and _key(name):
            found.setdefault(_key(name), set()).add(canonical)

    for zone in _zones():
        add(zone, zone)
        if "/" in zone and not zone.startswith("Etc/"):
            add(zone.rsplit("/", 1)[-1], zone)
    for language in NAME_LOCALES:
        locale = Locale.parse(language)
        for zone, names in locale.time_zones.items():
            city = names.get("city") if hasattr(names, "get") else None
            if city:
                add(str(city), zone)
    cities = dict(found)  # a city's own name wins over a country of the same name
    names: dict[str, set[str]] = {code: set(spellings) for code, spellings in SHORT_NAMES.items()}
    # a country's names and three-letter code (`USA`), by its two-letter code
    for alias, codes in get_global("territory_aliases").items():
        if len(alias) == 3 and alias.isalpha() and len(codes) == 1:
            names.setdefault(codes[0], set()).add(alias)
    for language in NAME_LOCALES:
        for code, name in Locale.parse(language).territories.items():
            names.setdefault(code, set()).add(name)
    countries: dict[str, set[str]] = {}
    for code, spellings in names.items():
        zones = {z for z in map(_canonical, get_global("territory_zones").get(code, ())) if z is not None}
        for spelling in spellings:
            if zones:
                countries.setdefault(_key(spelling), set()).update(zones)
    for key, zones in countries.items():
        cities.setdefault(key, zones)
    return {key: tuple(zones) for key, zones in cities.items()}


def _times(zone: str) -> tuple[float, ...]:
    info = ZoneInfo(zone)
    offsets = (moment.replace(tzinfo=info).utcoffset() for moment in _SEASONS)
    return tuple(offset.total_seconds() if offset is not None else 0.0 for offset in offsets)


def _west_to_east(zone: str) -> tuple[tuple[float, ...], int, str]:
    """West to east; of zones keeping the same time, the best known first: the one CLDR names
    the time after (Europe/Moscow for "Moscow time", not Europe/Kirov), else one Windows maps
    its zones to, else the one with more old names."""
    return _times(zone), -_renown()[zone] if zone in _renown() else 0, zone


@lru_cache(maxsize=1)
def _renown() -> dict[str, int]:
    score: dict[str, int] = {}
    for alias, zone in get_global("zone_aliases").items():
        score[zone] = score.get(zone, 0) + 1
    for zone in get_global("windows_zone_mapping").values():
        score[zone] = score.get(zone, 0) + 100
    for zone, meta in get_global("meta_zones").items():
        if meta.casefold() == zone.rsplit("/", 1)[-1].casefold():
            score[zone] = score.get(zone, 0) + 10_000
    return score


def _one_per_time(zones: tuple[str, ...]) -> tuple[str, ...]:
    """One zone for each distinct time (Berlin and Busingen keep the same: one answer)."""
    chosen: dict[tuple[float, ...], str] = {}
    for zone in zones:
        chosen.setdefault(_times(zone), zone)
    return tuple(chosen.values())
