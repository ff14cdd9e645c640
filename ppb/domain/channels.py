"""How a person names a channel: @name, name, t.me/name, or a -100… id."""

from __future__ import annotations

import re

from collections.abc import Sequence

from ppb.domain.errors import Invalid

_USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,31}$")
_LINK = re.compile(r"^(?:https?://)?(?:t\.me|telegram\.me)/(?:s/)?([A-Za-z0-9_]+)/?$")


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
        if re.fullmatch(r"-?\d+", text):
            return cls(telegram_id=int(text))
        link = _LINK.match(text)
        name = link.group(1) if link else text.removeprefix("@")
        if not _USERNAME.match(name):
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


ChannelRef = ChannelName
"""The store's older name for the same type."""


def parse_channel(raw: str) -> ChannelName:
    """`ChannelName.parse` without a field name (raises `Invalid`, a DomainError)."""
    return ChannelName.parse(raw)


def normalize_username(username: str | None) -> str | None:
    """Usernames are stored lower-case and without '@'."""
    if username is None:
        return None
    name = username.strip().removeprefix("@").lower()
    return name or None
