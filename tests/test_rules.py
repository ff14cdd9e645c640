"""A person's rules as pure checks: muted and must-see words (whole words, any case, any
script), quiet hours in the person's time zone, channel dials."""

from __future__ import annotations

from datetime import UTC, datetime, time

import numpy as np
import pytest

from ppb.core.rules import PostFilter, from_row, ranking_dials, to_row
from ppb.domain.rules import (
    ChannelDial,
    Rules,
    check_mute_words,
    check_timezone,
    in_quiet_hours,
    is_muted,
    mute_pattern,
    with_dials,
)
from ppb.ranking.dials import LESS, MORE


@pytest.mark.parametrize(("words", "text", "muted"), [
    (("crypto",), "Crypto prices fell again", True),
    (("crypto",), "A cryptographer explains hashes", False),
    (("кот",), "Кот!", True),
    (("кот",), "Рецепт: котлета по-киевски", False),
    (("ёлка",), "Ставим ЕЛКУ и ёлка уже стоит", True),
    (("ai",), "We said no", False),
    (("ai",), "New AI, new rules", True),
    (("machine learning",), "Machine   Learning in practice", True),
    (("футбол",), "ФУТБОЛ: итоги тура", True),
    (("футбол",), "Футболист года", False),
    (("c++",), "Learn C++ fast", True),
    (("straße",), "STRASSE gesperrt", True),
])
def test_a_muted_word_matches_as_a_whole_word_in_any_case(words: tuple[str, ...], text: str, muted: bool) -> None:
    assert is_muted(text, mute_pattern(words)) is muted


def test_mute_words_are_trimmed_deduplicated_and_refused_when_empty() -> None:
    assert check_mute_words([" Crypto ", "crypto", "Биткоин"]) == ("Crypto", "Биткоин")
    with pytest.raises(ValueError, match=r"\[1\] is empty"):
        check_mute_words(["ok", "  "])
    with pytest.raises(ValueError, match="only spaces and punctuation"):
        check_mute_words(["!!!"])
    assert check_mute_words(["🚀", "«ИИ»", "x"]) == ("🚀", "«ИИ»", "x")  # an emoji mutes too


def test_a_time_zone_must_be_a_known_name() -> None:
    assert check_timezone("Europe/Moscow") == "Europe/Moscow"
    with pytest.raises(ValueError, match="unknown time zone"):
        check_timezone("Mars/Olympus")
    with pytest.raises(ValueError, match="unknown time zone"):
        check_timezone("../../etc/passwd")


def test_quiet_hours_are_in_the_persons_time_zone_and_may_cross_midnight() -> None:
    rules = Rules(timezone="Europe/Moscow", quiet_start=time(23, 0), quiet_end=time(8, 0))  # UTC+3
    assert in_quiet_hours(rules, datetime(2024, 3, 1, 20, 30, tzinfo=UTC))  # 23:30 in Moscow
    assert in_quiet_hours(rules, datetime(2024, 3, 1, 4, 59, tzinfo=UTC))  # 07:59
    assert not in_quiet_hours(rules, datetime(2024, 3, 1, 5, 0, tzinfo=UTC))  # 08:00
    assert not in_quiet_hours(rules, datetime(2024, 3, 1, 19, 59, tzinfo=UTC))  # 22:59
    day = Rules(timezone="UTC", quiet_start=time(13, 0), quiet_end=time(14, 0))
    assert in_quiet_hours(day, datetime(2024, 3, 1, 13, 30, tzinfo=UTC))
    assert not in_quiet_hours(day, datetime(2024, 3, 1, 14, 0, tzinfo=UTC))
    assert not in_quiet_hours(Rules(quiet_start=None, quiet_end=None), datetime(2024, 3, 1, 0, 0, tzinfo=UTC))


def test_rules_survive_the_row_round_trip_and_the_filter_hides_what_they_say() -> None:
    rules = Rules(mute_words=("crypto",), hide_ads=True, timezone="Asia/Tokyo", quiet_start=None, quiet_end=None)
    assert from_row({**to_row(rules), "user_id": 1}) == rules
    hidden = PostFilter.of(rules)
    assert hidden.reason("crypto is back") == "muted"
    assert hidden.reason("#реклама лучший курс") == "ad"
    assert hidden.reason("A calm post about gardens") is None
    assert not PostFilter.of(Rules()).active


def test_must_see_words_match_as_muted_words_do_and_come_first_but_never_over_a_hiding_rule() -> None:
    rules = Rules(mute_words=("crypto",), must_words=("Кот", "new release"), channel_dials={7: ChannelDial.NEVER,
                                                                                         8: ChannelDial.MORE})
    assert from_row({**to_row(rules), "user_id": 1}) == rules
    shown = PostFilter.of(rules)
    rows = [{"id": 1, "text": "A calm post", "channel_id": 1},
            {"id": 2, "text": "КОТ спит!", "channel_id": 1},
            {"id": 3, "text": "котлета на ужин", "channel_id": 1},
            {"id": 4, "text": "The new\nrelease is out", "channel_id": 8},
            {"id": 5, "text": "Кот и crypto", "channel_id": 1},
            {"id": 6, "text": "Кот в канале, который не нужен", "channel_id": 7}]
    assert [row["id"] for row in shown.keep(rows)] == [2, 4, 1, 3], "must-see first, in order; mute and never win"
    assert shown.reason("Кот", 7) == "never" and shown.reason("Кот", 8) is None
    assert not shown.must_see(rows[2]) and shown.must_see(rows[1])
    assert PostFilter.of(Rules(must_words=("x1",))).active is False, "must-see words hide nothing"


def test_a_dial_moves_its_channel_by_log_odds_and_normal_clears_it() -> None:
    assert with_dials({1: ChannelDial.MORE, 2: ChannelDial.NEVER}, {1: ChannelDial.NORMAL, 3: ChannelDial.LESS}) == {
        2: ChannelDial.NEVER, 3: ChannelDial.LESS}
    dials = ranking_dials(Rules(channel_dials={1: ChannelDial.MORE, 2: ChannelDial.LESS, 3: ChannelDial.NEVER}))
    assert dials is not None and dials.never == frozenset({3}) and ranking_dials(Rules()) is None
    assert dials.ranked_channels([1, 2, 3, 4]) == [1, 2, 4]
    relevance = np.array([0.5, 0.5, 0.5, 0.9], dtype=np.float32)
    moved = dials.apply(relevance, np.array([1, 2, 4, 1]))
    odds = np.log(moved / (1 - moved))
    assert np.allclose(odds[:3], [MORE, LESS, 0.0], atol=1e-5) and moved[3] > 0.9
    assert moved.dtype == relevance.dtype
