"""The `parts` keeper on the session's Ray: it makes sure of the parts, restarts the shards
under new counts, and stops everything once its application is gone."""

from __future__ import annotations

import asyncio
import uuid

import ray

from ppb.actors.named import named_actor
from ppb.actors.parts import NAME, PartsKeeper, shard_names
from ppb.compose.parts import PARTS
from ppb.config import Settings, load_settings
from tests.conftest import eventually


def settings_for(sqlite_url: str, **overrides: object) -> Settings:
    """No bot (so no `bot`/`nudger`), in a namespace of the test's own."""
    return load_settings(DATABASE_URL=sqlite_url, PPB_SANDBOX=False, **overrides)


def names(settings: Settings) -> list[str]:
    return sorted(
        actor["name"] for actor in ray.util.list_named_actors(all_namespaces=True)
        if actor["namespace"] == settings.ray_namespace
    )


async def test_new_shard_counts_restart_every_shard(ray_session: None, sqlite_url: str) -> None:
    namespace = f"ppb-parts-{uuid.uuid4().hex[:8]}"
    two = settings_for(sqlite_url, PPB_USER_SHARDS=2, PPB_CHAT_SHARDS=1, PPB_RAY_NAMESPACE=namespace)
    keeper = named_actor(PartsKeeper, NAME, two, "some-app", PARTS, 3600.0)  # no watch during the test
    try:
        assert (await keeper.ensure.remote(two))["users"] == 2
        assert await keeper.ensure.remote(two)  # again: nothing new
        assert await asyncio.to_thread(shard_names, two) == ["chats-0", "users-0", "users-1"]
        first = await ray.get_actor("users-0", namespace=namespace).stats.remote()

        three = settings_for(sqlite_url, PPB_USER_SHARDS=3, PPB_CHAT_SHARDS=1, PPB_RAY_NAMESPACE=namespace)
        await keeper.ensure.remote(three)
        assert await asyncio.to_thread(shard_names, three) == ["chats-0", "users-0", "users-1", "users-2"]
        again = await ray.get_actor("users-0", namespace=namespace).stats.remote()
        assert again["pid"] != first["pid"]  # a new shard: no cache kept from the old routing
        assert (await keeper.status.remote())["user_shards"] == 3
    finally:
        ray.kill(keeper, no_restart=True)
        for name in await asyncio.to_thread(names, two):
            ray.kill(ray.get_actor(name, namespace=namespace), no_restart=True)


async def test_the_parts_go_when_their_application_is_gone(ray_session: None, sqlite_url: str) -> None:
    settings = settings_for(sqlite_url, PPB_USER_SHARDS=1, PPB_CHAT_SHARDS=1,
                            PPB_RAY_NAMESPACE=f"ppb-parts-{uuid.uuid4().hex[:8]}")
    keeper = named_actor(PartsKeeper, NAME, settings, "an-app-serve-does-not-run", PARTS, 0.2)
    await keeper.ensure.remote(settings)
    assert await asyncio.to_thread(names, settings) == ["chats-0", "embedder-0", "parts", "users-0"]

    async def all_gone() -> bool:
        return await asyncio.to_thread(names, settings) == []

    await eventually(all_gone, 30, "the keeper to stop the parts and itself")


async def test_in_webhook_mode_the_keeper_registers_the_webhook_and_starts_no_polling(
    ray_session: None, sqlite_url: str
) -> None:
    from ppb.compose.web import http_app as build_app
    from ppb.http.webhook import PATH
    from tests.bot_helpers import serve
    from tests.ports import free_port

    settings = load_settings(DATABASE_URL=sqlite_url, PPB_HTTP_PORT=free_port(), BOT_MODE="webhook",
                             WEBHOOK_SECRET="hook-secret", PPB_USER_SHARDS=1, PPB_CHAT_SHARDS=1,
                             NUDGE_CHECK_INTERVAL=3600, PPB_RAY_NAMESPACE=f"ppb-parts-{uuid.uuid4().hex[:8]}")
    app = build_app(settings)  # the sandbox's Bot API the keeper registers with
    async with serve(app, settings.http_port) as base:
        keeper = named_actor(PartsKeeper, NAME, settings, "some-app", PARTS, 3600.0)
        try:
            started = await keeper.ensure.remote(settings)
            assert started["bot"] == "webhook"
            assert app.state.sandbox.webhook_url == f"{base}{PATH}"
            assert (await keeper.status.remote())["webhook_registered"] is True
            assert "bot" not in await asyncio.to_thread(names, settings)  # no polling actor
            assert {"nudger", "outbox"} <= set(await asyncio.to_thread(names, settings))
        finally:
            ray.kill(keeper, no_restart=True)
            for name in await asyncio.to_thread(names, settings):
                ray.kill(ray.get_actor(name, namespace=settings.ray_namespace), no_restart=True)
            await app.state.sandbox.close()
