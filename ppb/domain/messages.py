"""Messages the bot keeps track of in a chat (DESIGN section 6): their kinds and records."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class MessageType(StrEnum):
    SYSTEM = "system"
    """Persistent, one per tag; replaced (edited in place when possible)."""
    EPHEMERAL = "ephemeral"
    """Temporary: gone after the next interaction or its auto-delete time."""
    ONETIME = "onetime"
    """Permanent content (feed posts): never deleted by the bot."""


@dataclass(frozen=True, slots=True)
class ManagedMessage:
    chat_id: int
    message_id: int
    type: MessageType
    tag: str | None = None
    sent_at: float = 0.0
    """Unix time the message was sent: Telegram deletes only messages younger than 48 hours."""
    delete_after: float | None = None
    """Unix time an ephemeral message should be gone by, if it has one."""
    post_id: int | None = None
    """The post a feed message (a feed post, a push, a nudge) shows: a rating of it made
    elsewhere is shown on its buttons."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ManagedMessage:
        return cls(**{**data, "type": MessageType(data["type"])})

    def matches(self, type: MessageType | None, tag: str | None) -> bool:
        return (type is None or self.type == type) and (tag is None or self.tag == tag)
