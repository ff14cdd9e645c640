"""How a person names a channel: @name, name, t.me/name, or a -100… id."""

from __future__ import annotations

import re

from collections.abc import Sequence

from ppb.domain.charsets import WHITESPACE
from ppb.domain.errors import Invalid

_USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,31}$")
_LINK = re.compile(r"^(?:https?://)?(?:t\.me|telegram\.me)/(?:s/)?([A-Za-z0-9_]+)/?$")


def at_most(limit: int) -> str:
    """A regular expression for the decimal numbers from 0 to `limit` (leading zeros allowed)."""
    digits = str(limit)
    shorter = f"[0-9]{{1,{len(digits) - 1}}}" if len(digits) > 1 else None
    same_length = []
    for index, digit in enumerate(digits):
        if digit != "0":
            below = "0" if digit == "1" else f"[0-{int(digit) - 1}]"
            rest = len(digits) - index - 1
            same_length.append(digits[:index] + below + (f"[0-9]{{{rest}}}" if rest else ""))
    same_length.append(digits)
    return "0*(?:" + "|".join(([shorter] if shorter else []) + same_length) + ")"


_ID_PART = "(?:" + at_most(2**63 - 1) + "|-" + at_most(2**63) + ")"
"""A channel's numeric id: any 64-bit integer (Telegram's are -100 followed by its id)."""
_ID = re.compile(_ID_PART)
MAX_LENGTH = 128
"""Longest text read as a channel name (spaces around it included)."""

_NAME_PART = r"[A-Za-z][A-Za-z0-9_]{3,31}"
_LINK_PART = r"(?:https?://)?(?:t\.me|telegram\.me)/(?:s/)?" + _NAME_PART + "/?"
_SPACES = "[" + WHITESPACE + "]*"  # what `str.strip()` removes
USERNAME_PATTERN = "^" + _SPACES + "(?:@?" + _NAME_PART + "|" + _LINK_PART + ")" + _SPACES + "$"
"""What `ChannelName.parse_username` reads, as a regular expression (JSON Schema's `pattern`)."""
CHANNEL_PATTERN = "^" + _SPACES + "(?:" + _ID_PART + "|@?" + _NAME_PART + "|" + _LINK_PART + ")" + _SPACES + "$"
"""What `ChannelName.parse` reads: a username as above, or a numeric id of 64 bits."""


class ChannelName:
    """A channel as a person or a client names it: a lower-case username or a numeric id.

    `ChannelName.parse` is the one place that reads `@name`, `name`, a t.me link or a
    `-100…` id; every adapter (REST, bot, Mini App, scraper) parses through it."""

    __slots__ = ("username", "telegram_id")

    def __init__(self, username: str | None = None, telegram_id: int | None = None) -> None:
        self.username = username
        self.telegram_id = telegram_id

    def __repr__(self) -> str:
        return f"@{self.username}" if self.username else str(self.telegram_id)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ChannelName) and (self.username, self.telegram_id) == (
            other.username, other.telegram_id)

    def __hash__(self) -> int:
        return hash((self.username, self.telegram_id))

    @property
    def key(self) -> str | int:
        """What a stored channel row is matched by (its username, else its id)."""
        return self.username if self.username else int(self.telegram_id or 0)

    @classmethod
    def parse(cls, raw: str, field: str | None = None) -> ChannelName:
        """Parse what a person typed; raises `Invalid` (422) naming `field` and the reason."""
        text = raw.strip()
        if _ID.fullmatch(text) and len(raw) <= MAX_LENGTH:
            return cls(telegram_id=int(text))
        link = _LINK.match(text)
        name = link.group(1) if link else text.removeprefix("@")
        if not _USERNAME.match(name) or len(raw) > MAX_LENGTH:
            reason = f"{raw!r} is not a channel: use @name, a t.me/name link or a -100… id"
            raise Invalid(f"{field}: {reason}" if field else reason, reason=reason)
        return cls(username=name.lower())

    @classmethod
    def parse_many(cls, raws: Sequence[str], field: str) -> list[ChannelName]:
        """Each of `raws` parsed; the first bad one named as `field[index]`."""
        return [cls.parse(raw, f"{field}[{index}]") for index, raw in enumerate(raws)]

    @classmethod
    def parse_username(cls, raw: str, field: str | None = None) -> ChannelName:
        """A name that must be a username (not a numeric id)."""
        name = cls.parse(raw, field)
        if name.username is None:
            reason = "a username has letters, not only digits"
            raise Invalid(f"{field}: {reason}" if field else reason, reason=reason)
        return name


def normalize_username(username: str | None) -> str | None:
    """Usernames are stored lower-case and without '@'."""
    if username is None:
        return None
    name = username.strip().removeprefix("@").lower()
    return name or None
