"""A person's own delivery rules: how posts reach them, when, and which never do.

Pure data and checks (no I/O): the store keeps them, `core.rules` applies them, the API
validates input into them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ppb.domain.charsets import ASCII_PUNCTUATION, CONTROLS, WHITESPACE

WORD_CHARACTER = re.compile("[^" + WHITESPACE + CONTROLS + ASCII_PUNCTUATION + "]")
"""What a muted word must have one of: a letter, a digit, an emoji (a word of "." alone would
mute nearly every post)."""
MAX_MUTE_WORDS = 100
MAX_MUTE_WORD_LENGTH = 64


class DeliveryMode(StrEnum):
    LIVE = "live"  # posts above the person's threshold pushed as they arrive
    DIGEST = "digest"  # only the scheduled digest
    BOTH = "both"  # live pushes, and the rest in the digest
    OFF = "off"  # nothing unasked (the feed still answers)


class DigestMode(StrEnum):
    OFF = "off"
    DAILY = "daily"
    TWICE = "twice"  # at digest_time and twelve hours later


class ChannelDial(StrEnum):
    """How much of a channel the person wants, whatever the model thinks of it."""

    MORE = "more"  # its posts ranked higher
    NORMAL = "normal"  # the model alone (no dial kept)
    LESS = "less"  # its posts ranked lower
    NEVER = "never"  # none of its posts, anywhere (feed, pushes, digests, nudges, training)


@dataclass(frozen=True, slots=True)
class Rules:
    delivery: DeliveryMode = DeliveryMode.BOTH
    digest: DigestMode = DigestMode.DAILY
    digest_time: time = time(9, 0)
    timezone: str = "UTC"
    quiet_start: time | None = time(23, 0)  # None: no quiet hours
    quiet_end: time | None = time(8, 0)
    mute_words: tuple[str, ...] = field(default_factory=tuple)
    hide_ads: bool = False
    must_words: tuple[str, ...] = field(default_factory=tuple)
    """Words or phrases that make a post always delivered (muted words still win)."""
    channel_dials: Mapping[int, ChannelDial] = field(default_factory=dict)
    """Dials by channel id (the store's); a channel absent is NORMAL."""

    @property
    def pushes(self) -> bool:
        return self.delivery in (DeliveryMode.LIVE, DeliveryMode.BOTH)

    @property
    def digests(self) -> bool:
        return self.delivery in (DeliveryMode.DIGEST, DeliveryMode.BOTH) and self.digest != DigestMode.OFF

    @property
    def filters(self) -> bool:
        """Whether any post can be hidden by these rules."""
        return bool(self.mute_words) or self.hide_ads or bool(self.never_channels)

    @property
    def never_channels(self) -> frozenset[int]:
        return frozenset(channel for channel, dial in self.channel_dials.items() if dial == ChannelDial.NEVER)


def with_dials(dials: Mapping[int, ChannelDial], changes: Mapping[int, ChannelDial]) -> dict[int, ChannelDial]:
    """`dials` with `changes` applied; NORMAL removes a channel's dial."""
    merged = {**dials, **changes}
    return {channel: dial for channel, dial in merged.items() if dial != ChannelDial.NORMAL}


def check_timezone(name: str) -> str:
    """An IANA time zone name ("Europe/Moscow", "UTC"); ValueError otherwise."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"unknown time zone {name!r} (use an IANA name such as Europe/Moscow)") from None
    return name


_CLOCK = re.compile(r"^(\d{1,2})(?:\s*[:.hч]\s*(\d{2})(?::00)?|(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.|h|ч)?$")


def read_clock(text: str) -> time | None:
    """A time of day as people type it: `9:00`, `09:00`, `9.30`, `0930`, `9`, `9pm`; None
    when it is not one."""
    match = _CLOCK.match(text.strip().casefold())
    if match is None:
        return None
    hours, minutes = int(match.group(1)), int(match.group(2) or match.group(3) or 0)
    meridiem = (match.group(4) or "").replace(".", "")
    if meridiem in {"am", "pm"}:
        if not 1 <= hours <= 12:
            return None
        hours = hours % 12 + (12 if meridiem == "pm" else 0)
    if hours > 23 or minutes > 59:
        return None
    return time(hours, minutes)


def normalize(text: str) -> str:
    """Case- and form-insensitive text for matching: NFKC, casefolded, ё as е."""
    return unicodedata.normalize("NFKC", text).casefold().replace("ё", "е")


def check_mute_words(words: list[str]) -> tuple[str, ...]:
    """Trimmed, de-duplicated words or phrases (muted or must-see); ValueError naming the bad one."""
    cleaned: dict[str, str] = {}
    for index, word in enumerate(words):
        word = " ".join(word.split())
        where = f"[{index}] " if len(words) > 1 else ""
        if not word:
            raise ValueError(f"{where}is empty")
        if len(word) > MAX_MUTE_WORD_LENGTH:
            raise ValueError(f"{where}is longer than {MAX_MUTE_WORD_LENGTH} characters")
        if not WORD_CHARACTER.search(word):
            raise ValueError(f"{where}is only spaces and punctuation")
        cleaned.setdefault(normalize(word), word)
    if len(cleaned) > MAX_MUTE_WORDS:
        raise ValueError(f"at most {MAX_MUTE_WORDS} words")
    return tuple(cleaned.values())


def mute_pattern(words: tuple[str, ...]) -> re.Pattern[str] | None:
    """One regex matching any of the words (muted or must-see) as a whole word (or phrase), in any script.

    A word boundary is "no letter or digit beside it" (`\\w` is Unicode-aware), so
    "кот" matches "Кот!" but not "котлета", and "ai" matches "AI," but not "said".
    """
    if not words:
        return None
    parts = sorted({r"\s+".join(map(re.escape, normalize(word).split())) for word in words}, key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)")


def is_muted(text: str, pattern: re.Pattern[str] | None) -> bool:
    """Whether `text` holds one of the words of `pattern` (`mute_pattern`): muted and
    must-see words match alike."""
    return pattern is not None and pattern.search(normalize(text)) is not None


def in_quiet_hours(rules: Rules, now: datetime) -> bool:
    """Whether `now` (aware) falls in the person's quiet hours, in their time zone."""
    if rules.quiet_start is None or rules.quiet_end is None or rules.quiet_start == rules.quiet_end:
        return False
    local = now.astimezone(ZoneInfo(rules.timezone)).time().replace(tzinfo=None)
    start, end = rules.quiet_start, rules.quiet_end
    if start < end:
        return start <= local < end
    return local >= start or local < end  # across midnight, e.g. 23:00-08:00
