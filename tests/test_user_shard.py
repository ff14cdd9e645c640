"""The user shard as plain Python over the real store: every transition, allowed and
forbidden, serialized per user, written through, evicted when idle."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from ppb.actors.user_shard import EventRequest, UserShard
from ppb.domain.errors import ForbiddenTransition, NotFound
from ppb.domain.status import TARGETS, TRANSITIONS, UserEvent, UserStatus
from ppb.store.queries import Store

S, E = UserStatus, UserEvent

PATH_TO: dict[UserStatus, list[UserEvent]] = {
    S.NEW: [],
    S.ONBOARDING: [E.START],
    S.TRAINING: [E.START, E.START_TRAINING],
    S.TRAINED: [E.START, E.START_TRAINING, E.COMPLETE_TRAINING],
    S.ACTIVE: [E.START, E.START_TRAINING, E.COMPLETE_TRAINING, E.VIEW_FEED],
    S.CHURNED: [E.START, E.START_TRAINING, E.COMPLETE_TRAINING, E.VIEW_FEED, E.CHURN],
}


def expected(status: UserStatus, event: UserEvent) -> UserStatus | None:
    """What the state machine says: the next status, or None when it forbids the event."""
    if (status, event) in TRANSITIONS:
        return TRANSITIONS[(status, event)]
    if event == E.ACTIVITY or TARGETS.get(event) == status:
        return status
    return None


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def user_in(shard: UserShard, store: Store, telegram_id: int, status: UserStatus) -> None:
    await store.upsert_user(telegram_id, None, None, None)
    for event in PATH_TO[status]:
        await shard.apply(telegram_id, event)


@pytest.mark.parametrize(
    ("status", "event"),
    list(itertools.product(UserStatus, UserEvent)),
    ids=lambda value: value.value,
)
async def test_every_status_and_event(store: Store, new_id, status: UserStatus, event: UserEvent) -> None:
    shard = UserShard(store, idle_after=60)
    telegram_id = new_id()
    await user_in(shard, store, telegram_id, status)
    target = expected(status, event)
    if target is None:
        with pytest.raises(ForbiddenTransition):
            await shard.apply(telegram_id, event)
        assert (await store.get_user(telegram_id))["status"] == status.value
    else:
        row = await shard.apply(telegram_id, event)
        assert row["status"] == target.value
        assert (await store.get_user(telegram_id))["status"] == target.value  # written through


async def test_concurrent_events_for_one_user_are_serialized(store: Store, new_id) -> None:
    shard = UserShard(store, idle_after=60)
    telegram_id = new_id()
    await store.upsert_user(telegram_id, None, None, None)
    events = [E.START, E.START_TRAINING, E.COMPLETE_TRAINING, E.VIEW_FEED] * 5
    outcomes = await asyncio.gather(
        *(shard.apply(telegram_id, event) for event in events), return_exceptions=True
    )
    assert all(not isinstance(o, Exception) or isinstance(o, ForbiddenTransition) for o in outcomes)
    status, serial_log = S.NEW, []
    for event in events:  # the same events applied one after another, in arrival order
        target = expected(status, event)
        if target is not None and target != status:
            serial_log.append(f"status:{event.value}")
            status = target
    user = await store.get_user(telegram_id)
    log = [row["action"] for row in await store.user_log(user["id"])]
    assert log == serial_log
    assert len(log) == 16
    assert user["status"] == S.ACTIVE.value


async def test_a_batch_keeps_each_users_order_and_reports_errors(store: Store, new_id) -> None:
    shard = UserShard(store, idle_after=60)
    first, second = new_id(), new_id()
    for telegram_id in (first, second):
        await store.upsert_user(telegram_id, None, None, None)
    results = await shard.apply_many(
        [
            EventRequest(first, E.START),
            EventRequest(second, E.VIEW_FEED),
            EventRequest(first, E.START_TRAINING),
            EventRequest(new_id(), E.START),
        ]
    )
    assert [type(r.error) for r in results] == [type(None), ForbiddenTransition, type(None), NotFound]
    assert results[2].user is not None and results[2].user["status"] == S.TRAINING.value
    assert results[3].error is not None and "not found" in results[3].error.detail


async def test_idle_users_are_evicted_and_come_back_from_the_store(store: Store, new_id) -> None:
    clock = Clock()
    shard = UserShard(store, idle_after=60, clock=clock)
    telegram_id = new_id()
    await store.upsert_user(telegram_id, None, None, None)
    await shard.apply(telegram_id, E.START)
    assert shard.active_count() == 1
    clock.now += 30
    assert shard.evict_idle() == 0
    clock.now += 31
    assert shard.evict_idle() == 1
    assert shard.active_count() == 0
    assert (await shard.get(telegram_id))["status"] == S.ONBOARDING.value


async def test_unknown_user_is_not_found(store: Store, new_id) -> None:
    with pytest.raises(NotFound):
        await UserShard(store, idle_after=60).apply(new_id(), E.START)


async def test_get_many_answers_in_order_with_none_for_unknown_users(store: Store, new_id) -> None:
    shard = UserShard(store, idle_after=60)
    known, unknown = new_id(), new_id()
    await store.upsert_user(known, None, None, None)
    found = await shard.get_many([unknown, known])
    assert found[0] is None
    assert found[1] is not None and found[1]["telegram_id"] == known
