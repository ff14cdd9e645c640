"""What the routes work with: the settings and the core, built once per process by the
composition root (`ppb.compose.core.build_services`) and handed to the app."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from ppb.config import Settings
from ppb.core.app import Core
from ppb.core.ports import Ranker, UserMachine
from ppb.core.variants import FeedRanker
from ppb.store.queries import Store


@dataclass(slots=True)
class Services:
    settings: Settings
    core: Core
    embedder: Any = None
    """The embedding stage when this process runs it (ranking in process); else None."""

    @property
    def store(self) -> Store:
        return self.core.store

    @property
    def users(self) -> UserMachine:
        return self.core.users

    @property
    def scoring(self) -> Ranker:
        return self.core.ranker

    @property
    def scraper(self) -> Any:
        """The scraper client (`start`/`close` as well as the core's two calls), or None."""
        return self.core.scraper

    @property
    def feed(self) -> FeedRanker:
        return self.core.feed_ranker

    def with_scraper(self, scraper: Any) -> Services:
        """The same services with another scraper client (tests with a fake Telegram)."""
        return Services(self.settings, dataclasses.replace(self.core, scraper=scraper), self.embedder)


def services_of(request: Request) -> Services:
    """The one way a route reaches what the app was built with."""
    return request.app.state.services  # type: ignore[no-any-return]


def core_of(request: Request) -> Core:
    return services_of(request).core
