"""The hot paths' batching keeps their promises: concurrent ratings are each committed before
their answer (SQLite's writer thread, PostgreSQL's multi-row statement), a batch of
transitions is one write whatever its size, and a nudger pass issues the same statements
for few due users as for many."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ppb.actors.user_shard import EventRequest, UserShard
from ppb.config import load_settings
from ppb.domain.errors import ForbiddenTransition, NotFound
from ppb.domain.interactions import InteractionType
from ppb.domain.status import UserEvent
from ppb.store.engine.counting import CountingDatabase
from ppb.store.migrate import upgrade
from ppb.store.queries import NewPost, Store
from tests.test_nudger import QUIET, RecordingChat, nudger, quiet_for, trained_user


async def a_channel_of_posts(store: Store, new_id, count: int) -> list[int]:
    channel = await store.upsert_channel(-1000000000000 - new_id(), None, "Hot paths")
    now = datetime.now(UTC)
    _, ids = await store.add_posts(channel["id"], [NewPost(n + 1, f"post {n}", "text", now) for n in range(count)])
    return ids


async def test_concurrent_ratings_are_each_committed_before_the_answer(store: Store, database_url: str, new_id) -> None:
    telegram_id = new_id()
    user, _ = await store.upsert_user(telegram_id, None, None, None)
    post_ids = await a_channel_of_posts(store, new_id, 60)
    kinds = [InteractionType.LIKE, InteractionType.DISLIKE, InteractionType.SKIP]
    unknown_user, missing_post = new_id(), max(post_ids) + 10**9

    calls = [store.rate(telegram_id, post_id, kinds[n % 3]) for n, post_id in enumerate(post_ids)]
    calls += [store.rate(unknown_user, post_ids[0], InteractionType.LIKE), store.rate(telegram_id, missing_post, InteractionType.LIKE)]
    results = await asyncio.gather(*calls, return_exceptions=True)

    rows, refused = results[:60], results[60:]
    assert all(isinstance(error, NotFound) for error in refused), refused  # refused alone, the others stand
    assert "user" in str(refused[0]) and "post" in str(refused[1])
    assert [(row["user_id"], row["post_id"], row["interaction_type"]) for row in rows] == [
        (user["id"], post_id, kinds[n % 3].value) for n, post_id in enumerate(post_ids)
    ]
    assert len({row["id"] for row in rows}) == 60

    other = Store(load_settings(DATABASE_URL=database_url).async_database_url)  # another connection sees them
    await other.connect()
    try:
        stored = {row["post_id"]: row["interaction_type"] for row in await other.list_interactions(user["id"])}
    finally:
        await other.disconnect()
    assert stored == {post_id: kinds[n % 3].value for n, post_id in enumerate(post_ids)}


async def test_rating_the_same_post_at_once_keeps_one_rating(store: Store, new_id) -> None:
    telegram_id = new_id()
    user, _ = await store.upsert_user(telegram_id, None, None, None)
    (post_id,) = await a_channel_of_posts(store, new_id, 1)
    kinds = [InteractionType.LIKE, InteractionType.DISLIKE] * 5
    rows = await asyncio.gather(*(store.rate(telegram_id, post_id, kind) for kind in kinds))
    assert len({row["id"] for row in rows}) == 1  # one row, replaced
    stored = await store.list_interactions(user["id"])
    assert len(stored) == 1 and stored[0]["interaction_type"] in {"like", "dislike"}


@pytest.fixture
def fresh_url(tmp_path: Path) -> str:
    """A SQLite database of its own, so no other test's users are due in it."""
    url = load_settings(DATABASE_URL=f"sqlite:///{tmp_path / 'hot.db'}").async_database_url
    upgrade(url)
    return url


@pytest.fixture
async def fresh_store(fresh_url: str) -> Any:
    store = Store(fresh_url)
    await store.connect()
    yield store
    await store.disconnect()


async def _transitions(store: Store, new_id, count: int) -> tuple[int, list[Any]]:
    ids = [new_id() for _ in range(count)]
    for telegram_id in ids:
        await store.upsert_user(telegram_id, None, None, None)
    counting = CountingDatabase(store.database)
    real, store.database = store.database, counting  # type: ignore[assignment]
    try:
        requests = [EventRequest(t, UserEvent.START) for t in ids]
        requests += [EventRequest(ids[0], UserEvent.COMPLETE_TRAINING), EventRequest(new_id(), UserEvent.START)]
        results = await UserShard(store, 600).apply_many(requests)
    finally:
        store.database = real
    return sum(counting.counts.values()), results


async def test_a_batch_of_transitions_is_one_write_whatever_its_size(store: Store, new_id) -> None:
    few, results = await _transitions(store, new_id, 3)
    many, more = await _transitions(store, new_id, 40)
    assert few == many  # constant per batch (a user's second event is the next round's)
    for batch in (results, more):
        assert [r.user["status"] for r in batch[:-2]] == ["onboarding"] * (len(batch) - 2)
        assert isinstance(batch[-2].error, ForbiddenTransition)  # onboarding cannot complete training
        assert isinstance(batch[-1].error, NotFound)  # no such user
    log = await store.user_log(results[0].user["id"])
    assert [entry["action"] for entry in log] == ["status:start"]
    assert log[0]["details"] == {"from": "new", "to": "onboarding"}


async def _nudger_pass(store: Store, new_id, due: int) -> tuple[int, int]:
    shard = UserShard(store, 600)
    chat = RecordingChat()
    for index in range(due):  # every other one without a rating of their own (a cold start)
        telegram_id, _, _ = await trained_user(store, new_id, shard, rated=2 if index % 2 else 0)
        await quiet_for(store, telegram_id, QUIET + 60)
    counting = CountingDatabase(store.database)
    real, store.database = store.database, counting  # type: ignore[assignment]
    try:
        report = await nudger(store, chat, shard).run_pass()
    finally:
        store.database = real
    assert report.nudged == due == len(chat.sent)
    return sum(counting.counts.values()), len(chat.sent)


async def test_a_nudger_pass_issues_the_same_statements_for_few_or_many_due(fresh_store: Store, new_id) -> None:
    few, _ = await _nudger_pass(fresh_store, new_id, 2)
    many, _ = await _nudger_pass(fresh_store, new_id, 8)  # the first two are nudged: not due again
    assert few == many, (few, many)


async def test_a_rating_waits_for_a_locked_sqlite_database_without_stalling_the_loop(fresh_store: Store, fresh_url: str, new_id) -> None:
    import sqlite3

    telegram_id = new_id()
    user, _ = await fresh_store.upsert_user(telegram_id, None, None, None)
    first, second = await a_channel_of_posts(fresh_store, new_id, 2)
    blocker = sqlite3.connect(fresh_url.split("///", 1)[1], isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another process holding SQLite's one write lock
    try:
        waiting = asyncio.ensure_future(fresh_store.rate(telegram_id, first, InteractionType.LIKE))
        later = asyncio.ensure_future(fresh_store.rate(telegram_id, first, InteractionType.DISLIKE))
        turns = 0
        while turns < 50:  # the loop keeps turning while the ratings wait for the lock
            await asyncio.sleep(0)
            turns += 1
        assert not waiting.done() and not later.done()
    finally:
        blocker.execute("COMMIT")
        blocker.close()
    await asyncio.wait_for(asyncio.gather(waiting, later), 30)
    rated = await fresh_store.rate(telegram_id, second, InteractionType.SKIP)  # back in the loop's own path
    stored = {row["post_id"]: row["interaction_type"] for row in await fresh_store.list_interactions(user["id"])}
    assert stored == {first: "dislike", second: "skip"}  # committed in the order they came
    assert rated["user_status"] == "new"


async def test_a_rating_stamps_activity_once_a_minute_and_reads_the_status_every_time(fresh_store: Store, new_id) -> None:
    from ppb.core import ratings
    from ppb.store.base import as_utc
    from ppb.store.engine.activity import ActivityStamps
    from ppb.store.schema import users

    clock = [1000.0]
    fresh_store.engine.activity = ActivityStamps(60.0, clock=lambda: clock[0])  # type: ignore[attr-defined]
    telegram_id = new_id()
    await fresh_store.upsert_user(telegram_id, None, None, None)
    first, second, third = await a_channel_of_posts(fresh_store, new_id, 3)

    async def stamp() -> Any:
        return as_utc((await fresh_store.get_user(telegram_id))["last_activity_at"])

    rated = await fresh_store.rate(telegram_id, first, InteractionType.LIKE)
    assert await stamp() == rated["created_at"]
    clock[0] += 30
    await fresh_store.rate(telegram_id, second, InteractionType.LIKE)
    assert await stamp() == rated["created_at"]  # stamped 30 s ago: not again

    await fresh_store.database.execute(users.update().where(users.c.telegram_id == telegram_id).values(status="churned"))
    clock[0] += 1
    back = await ratings.rate(fresh_store, UserShard(fresh_store, 600), None, telegram_id, third,  # type: ignore[arg-type]
                              InteractionType.DISLIKE)
    assert back["user_status"] == "churned"  # read on every rating, stamped or not
    assert (await fresh_store.get_user(telegram_id))["status"] == "active"  # and back at once
    returned_at = await stamp()
    assert returned_at > rated["created_at"]  # the return stamps activity itself

    clock[0] += 60
    again = await fresh_store.rate(telegram_id, first, InteractionType.DISLIKE)
    assert await stamp() == again["created_at"] > returned_at  # a minute on: stamped again


def test_the_stamp_interval_is_a_tenth_of_retention_times_at_most(tmp_path: Path) -> None:
    from ppb.compose.store import open_store

    url = f"sqlite:///{tmp_path / 'every.db'}"
    assert load_settings(DATABASE_URL=url).activity_every == 60.0  # a day's quiet, two weeks to churn
    short = load_settings(DATABASE_URL=url, NUDGE_AFTER="120", CHURN_AFTER="600")
    assert short.activity_every == 12.0
    assert open_store(short).engine.activity.every == 12.0  # type: ignore[attr-defined]
