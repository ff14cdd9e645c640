"""Finding a time zone and reading a time as people type them (ppb/domain/timezones.py,
ppb/domain/rules.py): cities and countries in English and Russian, IANA names in any case,
offsets; a country whose zones keep different times asks for the city."""

from __future__ import annotations

from datetime import time

import pytest

from ppb.domain.rules import read_clock
from ppb.domain.timezones import city_name, examples, find_timezone


@pytest.mark.parametrize(("typed", "zone"), [
    ("Moscow", "Europe/Moscow"), ("москва", "Europe/Moscow"), ("  Москва. ", "Europe/Moscow"),
    ("europe/moscow", "Europe/Moscow"), ("Europe/Moscow", "Europe/Moscow"), ("UTC", "UTC"),
    ("new york", "America/New_York"), ("Нью-Йорк", "America/New_York"), ("Kiev", "Europe/Kyiv"),
    ("Алматы", "Asia/Almaty"), ("Germany", "Europe/Berlin"), ("Германия", "Europe/Berlin"),
    ("Беларусь", "Europe/Minsk"), ("UK", "Europe/London"), ("utc+3", "Etc/GMT-3"), ("GMT-5", "Etc/GMT+5"),
    ("UTC +03:00", "Etc/GMT-3"),
])
def test_a_city_a_country_a_name_or_an_offset_finds_its_zone(typed: str, zone: str) -> None:
    assert find_timezone(typed).zone == zone


def test_a_country_with_several_times_asks_for_the_city_with_known_examples() -> None:
    russia = find_timezone("Россия")
    assert russia.zone is None and "Europe/Moscow" in russia.choices and "Asia/Vladivostok" in russia.choices
    assert len(set(russia.choices)) == len(russia.choices) and "Europe/Kirov" not in russia.choices, "one per time"
    assert "Москва" in examples(russia.choices, "ru") and "Moscow" in examples(russia.choices, "en")
    assert find_timezone("USA").choices == find_timezone("США").choices != ()


@pytest.mark.parametrize("typed", ["Mars/Olympus", "", "   ", "UTC+15", "+5:30", "Санкт-Петербург-на-Луне"])
def test_nothing_is_found_for_what_names_no_place(typed: str) -> None:
    match = find_timezone(typed)
    assert match.zone is None and match.choices == ()


def test_a_zones_city_in_each_language() -> None:
    assert city_name("Europe/Moscow", "ru") == "Москва" and city_name("Europe/Moscow", "en") == "Moscow"
    assert city_name("America/New_York", "en") == "New York"


@pytest.mark.parametrize(("typed", "clock"), [
    ("9:00", time(9)), ("09:00", time(9)), ("9.30", time(9, 30)), ("0930", time(9, 30)), ("9", time(9)),
    ("21ч", time(21)), ("9pm", time(21)), ("12 am", time(0)), ("23:00:00", time(23)), (" 7:05 ", time(7, 5)),
])
def test_a_time_as_people_type_it(typed: str, clock: time) -> None:
    assert read_clock(typed) == clock


@pytest.mark.parametrize("typed", ["24:00", "7:60", "9:5", "morning", "13pm", ""])
def test_what_is_not_a_time(typed: str) -> None:
    assert read_clock(typed) is None
