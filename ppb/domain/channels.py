"""How a person names a channel: @name, name, t.me/name, or a -100… id."""

from __future__ import annotations

import re

from ppb.domain.errors import DomainError

_USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,31}$")
_LINK = re.compile(r"^(?:https?://)?(?:t\.me|telegram\.me)/(?:s/)?([A-Za-z0-9_]+)/?$")


class ChannelRef:
    """A parsed channel reference: a lower-case username or a numeric id."""

    __slots__ = ("username", "telegram_id")

    def __init__(self, username: str | None = None, telegram_id: int | None = None) -> None:
        self.username = username
        self.telegram_id = telegram_id

    def __repr__(self) -> str:
        return f"@{self.username}" if self.username else str(self.telegram_id)


def parse_channel(raw: str) -> ChannelRef:
    """Parse what a person typed; raises DomainError saying what is wrong."""
    text = raw.strip()
    if re.fullmatch(r"-?\d+", text):
        return ChannelRef(telegram_id=int(text))
    link = _LINK.match(text)
    name = link.group(1) if link else text.removeprefix("@")
    if not _USERNAME.match(name):
        raise DomainError(
            f"{raw!r} is not a channel: use @name, a t.me/name link or a -100… id"
        )
    return ChannelRef(username=name.lower())


def normalize_username(username: str | None) -> str | None:
    """Usernames are stored lower-case and without '@'."""
    if username is None:
        return None
    name = username.strip().removeprefix("@").lower()
    return name or None
