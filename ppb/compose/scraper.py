"""The scraper: a Telethon session in this process, or the `scraper-<session>` actor's client."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ppb.compose.store import open_store
from ppb.config import Settings
from ppb.store.queries import Store

if TYPE_CHECKING:
    from ppb.scraper.client import ScraperClient
    from ppb.scraper.session import ClientFactory, Scraper


def scraper(settings: Settings, store: Store, client_factory: ClientFactory | None = None) -> Scraper:
    """The Telethon session's scraper over `store`; `client_factory` makes its Telegram
    client (the session of the settings when not given; tests give a fake Telegram)."""
    from ppb.scraper.session import Scraper
    from ppb.scraper.telethon_session import TelethonSession, session_name

    return Scraper(
        store,
        TelethonSession(settings) if client_factory is None else client_factory,
        name=session_name(settings),
        refresh_interval=settings.scrape_interval,
        refresh_limit=settings.posts_per_channel,
        max_channels=settings.scraper_max_channels,
    )


def scraper_session(settings: Settings, client_factory: ClientFactory | None = None) -> Scraper:
    """What the `scraper-<session>` actor runs: the scraper over a store of its own."""
    return scraper(settings, open_store(settings), client_factory)


def scraper_client(settings: Settings, store: Store, *, actors: bool = False) -> ScraperClient | None:
    """None without a Telethon session; the named actor under Ray; else one in this process."""
    from ppb.scraper.telethon_session import missing_settings

    if missing_settings(settings):
        return None
    if actors:
        from ppb.actors.scraper import RayScraperClient

        return RayScraperClient(settings, scraper_session)
    from ppb.scraper.client import LocalScraperClient

    return LocalScraperClient(scraper(settings, store))
