"""What the routes work with, built once per process and handed to the app."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from ppb import metrics
from ppb.config import Settings
from ppb.core import training
from ppb.core.variants import FeedRanker
from ppb.domain.interactions import InteractionType
from ppb.domain.status import UserEvent, UserStatus
from ppb.http.scoring import Ranker, Scoring
from ppb.scraper.client import ScraperClient, scraper_client
from ppb.store.queries import Row, Store


class UserMachine(Protocol):
    """Where user state transitions are serialized: the user shards, or the store alone."""

    async def apply(self, telegram_id: int, event: UserEvent, details: dict[str, Any] | None) -> Row: ...


class StoreUserMachine:
    """Transitions by compare-and-set in the store."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def apply(self, telegram_id: int, event: UserEvent, details: dict[str, Any] | None) -> Row:
        return await self._store.apply_event(telegram_id, event, details)


@dataclass(slots=True)
class Services:
    settings: Settings
    store: Store
    scoring: Ranker  # Scoring in process, or ScorerClient under Serve
    users: UserMachine
    scraper: ScraperClient | None = None  # None without a Telethon session

    async def rate(self, telegram_id: int, post_id: int, kind: InteractionType) -> Row:
        """Store a rating (from the API, the bot or the Mini App); a rating is activity, so a
        churned user is moved back to active through the state machine."""
        row = await self.store.rate(telegram_id, post_id, kind)
        metrics.record("ppb_ratings_total", kind=kind.value)
        if row.get("user_status") == UserStatus.CHURNED:
            await self.users.apply(telegram_id, UserEvent.ACTIVITY, {"via": "rating"})
        elif row.get("user_status") == UserStatus.TRAINING:
            await training.after_rating(self.store, self.users, self.scoring, telegram_id)
        return row

    @property
    def feed(self) -> FeedRanker:
        """The ranker the feed paths use: the user's A/B variant, blocks respected."""
        return FeedRanker(self.scoring, self.store)

    @classmethod
    def from_settings(cls, settings: Settings, *, actors: bool = False) -> Services:
        """Services for one process; with `actors`, transitions go through the user shards."""
        store = Store(settings.async_database_url)
        users: UserMachine = StoreUserMachine(store)
        if actors:
            from ppb.actors.remote import UserShards

            users = UserShards(settings)
        return cls(settings, store, Scoring.from_settings(store, settings), users, scraper_client(settings, store, actors=actors))
