"""Run the versioned Alembic migrations against the configured database."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(async_url: str) -> Config:
    """An Alembic config without an ini file: the script location and the URL are all it needs."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", async_url.replace("%", "%%"))
    return config


def upgrade(async_url: str, revision: str = "head") -> None:
    """Bring the schema to `revision` (blocking; creates a SQLite file's folder first)."""
    if async_url.startswith("sqlite"):
        path = async_url.split(":///", 1)[-1].split("?", 1)[0]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(async_url), revision)


async def upgrade_async(async_url: str, revision: str = "head") -> None:
    """`upgrade` from inside a running event loop (Alembic's async env runs its own loop)."""
    await asyncio.to_thread(upgrade, async_url, revision)
