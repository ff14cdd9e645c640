"""How the HTTP layer reaches the scraper: a two-call protocol, in process or through Ray."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ppb.config import Settings
    from ppb.scraper.session import Scraper
    from ppb.store.queries import Store


class ScraperClient(Protocol):
    """`scrape` and `join` answer dicts (see docs/content.md); errors are DomainErrors."""

    async def start(self) -> None: ...
    async def scrape(self, channel: str, limit: int) -> dict[str, Any]: ...
    async def join(self, channel: str) -> dict[str, Any]: ...
    async def close(self) -> None: ...


class LocalScraperClient:
    """The scraper in this process (`ppb api --bare`, tests with a fake Telegram)."""

    def __init__(self, scraper: Scraper) -> None:
        self.scraper = scraper

    async def start(self) -> None:
        await self.scraper.start()

    async def scrape(self, channel: str, limit: int) -> dict[str, Any]:
        return await self.scraper.scrape(channel, limit)

    async def join(self, channel: str) -> dict[str, Any]:
        return await self.scraper.join(channel)

    async def close(self) -> None:
        await self.scraper.close()


def scraper_client(settings: Settings, store: Store, *, actors: bool = False) -> ScraperClient | None:
    """None without a Telethon session; the named actor under Ray; else one in this process."""
    from ppb.scraper.telethon_session import missing_settings

    if missing_settings(settings):
        return None
    if actors:
        from ppb.actors.scraper import RayScraperClient

        return RayScraperClient(settings)
    from ppb.scraper.session import Scraper
    from ppb.scraper.telethon_session import TelethonSession

    factory = TelethonSession(settings)
    scraper = Scraper(
        store,
        factory,
        name=factory.name,
        refresh_interval=settings.scrape_interval,
        refresh_limit=settings.posts_per_channel,
        max_channels=settings.scraper_max_channels,
    )
    return LocalScraperClient(scraper)
