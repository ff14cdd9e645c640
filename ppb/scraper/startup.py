"""Content at start-up: demo channels loaded (idempotently), the scraper session started.

Neither may stop the API from starting: a database or Telegram that is down is logged,
and the routes answer 503 until it is back.
"""

from __future__ import annotations

import logging

from ppb.config import Settings
from ppb.domain.errors import DomainError
from ppb.scraper.client import ScraperClient
from ppb.store.queries import Store

log = logging.getLogger("ppb.content")


async def start_content(settings: Settings, store: Store, scraper: ScraperClient | None) -> None:
    if settings.use_demo_data:
        from ppb.scraper.demo import load_demo

        try:
            await load_demo(store)
        except Exception as error:  # the API still starts; posts already stored still serve
            log.warning("demo data not loaded: %s: %s", type(error).__name__, error)
    if scraper is not None:
        try:
            await scraper.start()
        except DomainError as error:
            log.warning("scraper not started: %s", error.detail)


async def stop_content(scraper: ScraperClient | None) -> None:
    if scraper is not None:
        await scraper.close()
