"""What the use cases need from the parts around them, as protocols: the adapters and the
composition root (`ppb.compose`) decide what implements each one, in process or in actors."""

from __future__ import annotations

from typing import Any, Protocol

from ppb.domain.status import UserEvent
from ppb.ranking.explain import Explanation

Row = dict[str, Any]


class Ranker(Protocol):
    """Fits and ranks per user: `Scoring` in process, or the Scorer deployment's client."""

    async def train(self, user_id: int) -> tuple[int, float]: ...

    async def best(
        self, user_id: int, limit: int, variant: dict[str, Any] | None = None
    ) -> list[tuple[Row, float]]: ...

    async def explain(self, user_id: int, post_id: int, variant: dict[str, Any] | None = None) -> Explanation:
        """Why the post ranks where it does for the user (`ppb.ranking.explain`)."""
        ...


class UserMachine(Protocol):
    """Where user state transitions are serialized: the user shards, or the store alone."""

    async def apply(self, telegram_id: int, event: UserEvent, details: dict[str, Any] | None) -> Row: ...


class Scraper(Protocol):
    """Reads channels from Telegram (`scrape`, `join` answer dicts; docs/content.md)."""

    async def scrape(self, channel: str, limit: int) -> dict[str, Any]: ...

    async def join(self, channel: str) -> dict[str, Any]: ...


class NudgeSender(Protocol):
    """Delivers a nudge to a person's chat (the bot), and finds one it already delivered."""

    async def send_nudge(self, telegram_id: int, language: str | None, post: Row) -> int:
        """Send the post with rating buttons; returns the message id."""
        ...

    async def find_nudge(self, telegram_id: int, post_id: int) -> int | None:
        """The message id of this post's nudge in the chat, if it was delivered."""
        ...


class Undeliverable(Exception):
    """The chat can never receive a message (the person blocked the bot, or the chat is gone)."""


class RetryLater(Exception):
    """Flood control: nothing may be sent for `seconds`."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds} s")
        self.seconds = seconds


class StoreUserMachine:
    """`UserMachine` by compare-and-set in the store (one process, or tests)."""

    def __init__(self, store: Any) -> None:
        self._store = store

    async def apply(self, telegram_id: int, event: UserEvent, details: dict[str, Any] | None) -> Row:
        return await self._store.apply_event(telegram_id, event, details)


class PersonData(Protocol):
    """A person's own settings and data, as the REST API reads and writes them (their
    validation and erasure from Redis live with the adapters; the composition root hands
    `LocalPpb` the implementation)."""

    async def rules(self, telegram_id: int) -> dict[str, Any]: ...
    async def change_rules(self, telegram_id: int, changes: dict[str, Any]) -> dict[str, Any]: ...
    async def export(self, telegram_id: int) -> dict[str, Any]: ...
    async def erase(self, telegram_id: int) -> None: ...
