"""The `outbox` actor against the sandbox, killed in the middle of a burst (while it waits
out a 429): Ray restarts it, it settles what it had claimed and carries on; every message
reaches its chat exactly once, each chat's in order."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from functools import partial

import pytest
import ray

from ppb.actors.outbox_actor import NAME, OutboxActor
from ppb.actors.remote import ChatShards, UserShards
from ppb.compose.parts import build_outbox
from ppb.compose.store import open_store
from ppb.config import load_settings
from ppb.store.migrate import upgrade_async
from ppb.store.queries import Store
from tests.bot_helpers import Harness, running_bot, wait_for
from tests.ports import free_port
from tests.store_reads import outbox_of

API_KEY = "test-api-key"
EACH = 4


@pytest.fixture(scope="module")
async def harness(ray_session: None, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Harness]:
    database_url = f"sqlite:///{tmp_path_factory.mktemp('outbox') / 'ppb.db'}"
    await upgrade_async(load_settings(DATABASE_URL=database_url).async_database_url)
    settings = load_settings(
        DATABASE_URL=database_url, PPB_API_KEY=API_KEY, PPB_HTTP_PORT=free_port(), PPB_DEMO_DATA=False,
        DEFAULT_CHANNELS="@nothing_here", PPB_RAY_NAMESPACE=f"ppb-test-{uuid.uuid4().hex[:8]}",
        PPB_USER_SHARDS=1, PPB_CHAT_SHARDS=1, PPB_OUTBOX_PER_CHAT_S=1.0,
    )
    async with running_bot(settings, API_KEY) as running:
        yield running
    UserShards(settings, open_store).shards.kill_all()
    ChatShards(settings).shards.kill_all()


def post(number: int) -> dict:
    return {"id": number, "text": f"Burst message {number}", "channel_title": "Burst", "channel_username": None,
            "telegram_message_id": number, "media_type": "text"}


async def test_a_killed_outbox_neither_loses_nor_repeats_a_message(harness: Harness, new_id) -> None:
    store = Store(harness.settings.async_database_url)
    await store.connect()
    people = [harness.person(new_id()) for _ in range(4)]
    users = []
    for person in people:
        await person.say("/start")  # a bot may only write to people who wrote to it first
        await person.find_button("Start training")
        users.append(await store.get_user(person.user_id))
    handle = OutboxActor.options(name=NAME, namespace=harness.settings.ray_namespace).remote(
        harness.settings, partial(build_outbox, use_scorer=False))
    try:
        await wait_for(lambda: _ready(handle), 60, "the outbox ready")
        harness.emulator.inject("sendMessage", 429, retry_after=10, count=1)  # wide enough to be seen on a busy machine
        await store.enqueue([{"user_id": u["id"], "chat_id": u["telegram_id"], "kind": "push",
                              "payload": {"post": post(n)}} for n in range(EACH) for u in users])
        await wait_for(lambda: _flood_waiting(handle), 30, "the outbox waiting out the 429 mid-burst")
        ray.kill(handle, no_restart=False)  # Ray brings it back: it settles its claims and goes on
        await wait_for(lambda: _all_sent(store, users), 60, "every message sent")
        for person in people:
            texts = [m["text"] for m in await person.bot_messages() if "Burst message" in (m["text"] or "")]
            assert [t.rsplit("\n", 1)[-1] for t in texts] == [f"Burst message {n}" for n in range(EACH)], texts
        stats = await handle.stats.remote()
        assert stats["recovered"] >= 0 and stats["ready"]
    finally:
        ray.kill(handle, no_restart=True)
        await store.disconnect()


async def _ready(handle) -> bool:
    return bool((await handle.stats.remote())["ready"])


async def _flood_waiting(handle) -> bool:
    stats = await handle.stats.remote()
    return stats["flood_waits"] >= 1 and stats["paused_for"] > 0.5 and stats["in_flight"] == 0


async def _all_sent(store: Store, users: list[dict]) -> bool:
    statuses = [m["status"] for u in users for m in await outbox_of(store, u["id"])]
    return len(statuses) == EACH * len(users) and set(statuses) == {"sent"}
