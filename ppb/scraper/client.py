"""How PPB reaches the scraper: a two-call protocol, in process or through Ray (which one is
`ppb.compose`'s choice)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ppb.scraper.session import Scraper


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
