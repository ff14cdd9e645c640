"""The engine layer under the store: one contract (`contract.py`), an SQLite and a PostgreSQL
implementation; the queries by resource above it are written once."""

from __future__ import annotations

from ppb.store.engine.contract import Column, Engine, JsonRows
from ppb.store.engine.prepared import Prepared, param

__all__ = ["Column", "Engine", "JsonRows", "Prepared", "open_engine", "param"]


def open_engine(async_url: str) -> Engine:
    """The engine for a `databases` URL (`sqlite+aiosqlite:///…` or `postgresql+asyncpg://…`)."""
    if async_url.startswith("postgresql"):
        from ppb.store.engine.postgres import PostgresEngine  # asyncpg only where it is used

        return PostgresEngine(async_url)
    from ppb.store.engine.sqlite import SQLiteEngine

    return SQLiteEngine(async_url)
