"""The `nudger` actor with a short timer against the sandbox: killed in the middle of its
schedule, Ray restarts it and it carries on; every quiet user gets exactly one nudge."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
import ray

from ppb.actors.nudger_actor import NAME, NudgerActor
from ppb.actors.outbox_actor import NAME as OUTBOX, OutboxActor
from ppb.actors.remote import ChatShards, UserShards
from ppb.compose.parts import build_nudger, build_outbox
from ppb.compose.store import open_store
from ppb.config import load_settings
from ppb.store.migrate import upgrade_async
from ppb.store.queries import Store
from ppb.store.schema import users
from tests.bot_helpers import Harness, running_bot, wait_for
from tests.ports import free_port
from tests.store_reads import nudges_of

API_KEY = "test-api-key"
QUIET_S = 120.0
NUDGE_HEADER = "While you were away"


@pytest.fixture(scope="module")
async def harness(ray_session: None, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Harness]:
    # A database of its own: quiet users other tests left behind would be nudged first.
    database_url = f"sqlite:///{tmp_path_factory.mktemp('nudger') / 'ppb.db'}"
    await upgrade_async(load_settings(DATABASE_URL=database_url).async_database_url)
    settings = load_settings(
        DATABASE_URL=database_url, PPB_API_KEY=API_KEY, PPB_HTTP_PORT=free_port(), PPB_DEMO_DATA=True,
        DEFAULT_CHANNELS="@ppb_demo_tech", NUDGE_AFTER=QUIET_S, NUDGE_CHECK_INTERVAL=1.0, PPB_NUDGE_BATCH=2,
        PPB_RAY_NAMESPACE=f"ppb-test-{uuid.uuid4().hex[:8]}", PPB_USER_SHARDS=1, PPB_CHAT_SHARDS=1,
    )
    async with running_bot(settings, API_KEY) as running:
        yield running
    UserShards(settings, open_store).shards.kill_all()
    ChatShards(settings).shards.kill_all()


async def trained_through_the_api(harness: Harness, telegram_id: int) -> None:
    await harness.api("POST", "/users/", {"telegram_id": telegram_id, "first_name": "Quiet"})
    for event in ["start", "start_training"]:
        await harness.api("POST", f"/users/{telegram_id}/events", {"event": event})
    training = await harness.api("POST", "/posts/training", {
        "user_telegram_id": telegram_id, "channel_usernames": ["@ppb_demo_tech"], "posts_per_channel": 3})
    for post in training["posts"]:
        await harness.api("POST", "/posts/interactions",
                          {"user_telegram_id": telegram_id, "post_id": post["id"], "interaction_type": "like"})
    assert (await harness.api("POST", "/ml/train", {"user_telegram_id": telegram_id}))["success"]


async def test_a_killed_nudger_neither_loses_nor_repeats_a_nudge(harness: Harness, new_id) -> None:
    store = Store(harness.settings.async_database_url)
    await store.connect()
    people = [harness.person(new_id()) for _ in range(6)]
    for person in people:
        await person.say("/start")  # a bot may only write to people who wrote to it first
        await person.find_button("Start training")
        await trained_through_the_api(harness, person.user_id)
    await store.database.execute(
        users.update().where(users.c.telegram_id.in_([p.user_id for p in people]))
        .values(last_activity_at=datetime.now(UTC) - timedelta(seconds=QUIET_S + 60))
    )

    async def nudged() -> list[int]:
        return [
            sum(NUDGE_HEADER in (m["text"] or "") for m in await person.bot_messages()) for person in people
        ]

    handle = NudgerActor.options(name=NAME, namespace=harness.settings.ray_namespace).remote(
        harness.settings, partial(build_nudger, use_scorer=False)
    )
    outbox = OutboxActor.options(name=OUTBOX, namespace=harness.settings.ray_namespace).remote(
        harness.settings, partial(build_outbox, use_scorer=False)
    )  # nudges are sent by the outbox
    try:
        # Two nudges a pass, a pass a second: killed after the first pass, mid-schedule.
        await wait_for(lambda: _sent_count(store, people, 2), 60, "the first pass's nudges")
        ray.kill(handle, no_restart=False)  # Ray brings it back, and its timer with it
        await wait_for(lambda: _sent_count(store, people, len(people)), 90, "every quiet person nudged")
        await handle.run_pass.remote()  # more passes after the last nudge: nothing more
        await handle.run_pass.remote()
        await wait_for(lambda: _all_delivered(nudged, len(people)), 60, "every nudge in its chat")
        assert await nudged() == [1] * len(people)
    finally:
        ray.kill(handle, no_restart=True)
        ray.kill(outbox, no_restart=True)
        await store.disconnect()


async def _all_delivered(nudged, count: int) -> bool:
    found = await nudged()
    assert max(found) <= 1, found  # never two
    return found == [1] * count


async def _sent_count(store: Store, people: list, at_least: int) -> bool:
    sent = 0
    for person in people:
        rows = await nudges_of(store, (await store.get_user(person.user_id))["id"])
        assert len(rows) <= 1, rows  # never two for one quiet spell
        sent += sum(row["status"] == "sent" for row in rows)
    return sent >= at_least
