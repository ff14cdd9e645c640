"""The store, built here and nowhere else: every process opens its own connection pool."""

from __future__ import annotations

from ppb.config import Settings
from ppb.store.queries import Store


def open_store(settings: Settings) -> Store:
    """A store over the configured database, not connected yet."""
    return Store(settings.async_database_url, activity_every=settings.activity_every)


async def connected_store(settings: Settings) -> Store:
    """A store over the configured database, connected."""
    store = open_store(settings)
    await store.connect()
    return store
