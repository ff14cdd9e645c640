"""Shared fixtures: migrated SQLite and PostgreSQL stores, an API client per backend."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from ppb.compose.core import build_services
from ppb.compose.web import http_app as build_app
from ppb.config import Settings, load_settings
from ppb.http.services import Services
from ppb.store.migrate import upgrade
from ppb.store.queries import Store

POSTGRES_ADMIN_URL = os.environ.get("PPB_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_TEST_URL = os.environ.get("PPB_TEST_REDIS", "redis://127.0.0.1:6379/15")
API_KEY = "test-api-key"
BACKENDS = ["sqlite", "postgres"]

# The tests drive the bot at machine speed, far above a person's; the throttle's own tests
# (tests/test_bot_abuse.py) set its limits explicitly.
os.environ.setdefault("PPB_BOT_UPDATES_PER_S", "1000")
os.environ.setdefault("PPB_BOT_BURST", "1000")

_ids = itertools.count(int(uuid.uuid4().int % 10**9) * 1000)


@pytest.fixture
def new_id() -> Iterator[callable]:
    """A source of telegram ids no other test uses (tests share one database per backend)."""
    yield lambda: next(_ids)


@contextlib.contextmanager
def fresh_postgres(prefix: str = "ppb_test") -> Iterator[str]:
    """A PostgreSQL database of its own (a unique name, so concurrent suites never meet),
    migrated to head, and dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]

    async def admin(sql: str) -> None:
        connection = await asyncpg.connect(POSTGRES_ADMIN_URL)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        url = f"{base}/{name}"
        upgrade(load_settings(DATABASE_URL=url).async_database_url)
        yield url
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    with fresh_postgres() as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("sqlite") / "ppb.db"
    url = f"sqlite:///{path}"
    upgrade(load_settings(DATABASE_URL=url).async_database_url)
    return url


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest) -> str:
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return load_settings(DATABASE_URL=database_url, PPB_API_KEY=API_KEY)


@pytest.fixture(scope="session")
async def services(settings: Settings) -> AsyncIterator[Services]:
    services = build_services(settings)
    await services.store.connect()
    yield services
    await services.store.disconnect()


@pytest.fixture(scope="session")
async def store(services: Services) -> Store:
    return services.store


@pytest.fixture(scope="session")
async def api(settings: Settings, services: Services) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client speaking to the real app (in process, through ASGI)."""
    app = build_app(settings, services)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://127.0.0.1", headers={"X-API-Key": API_KEY}
    ) as client:
        yield client


def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def ray_session() -> Iterator[None]:
    """One local Ray for the whole test session (namespace `ppb`), shut down at the end."""
    import ray

    ray.init(address="local", num_cpus=2, include_dashboard=False, namespace="ppb", log_to_driver=False)
    yield
    ray.shutdown()


async def eventually(condition: Callable[[], Awaitable[bool]], deadline_s: float, what: str) -> None:
    """Wait until `condition()` is true, polling; fail naming `what` after the deadline."""
    deadline = asyncio.get_running_loop().time() + deadline_s
    while asyncio.get_running_loop().time() < deadline:
        if await condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out after {deadline_s} s waiting for {what}")
