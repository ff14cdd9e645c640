"""The shards as Ray actors: killed during a stream of writes, they lose nothing that was
acknowledged and answer again by themselves."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest
import ray

from ppb.actors.chat_cache import CachedChatShards
from ppb.actors.remote import ChatShards, ShardSet, UserShards
from ppb.actors.user_shard import EventRequest
from ppb.compose.store import open_store
from ppb.config import Settings, load_settings
from ppb.domain.errors import ForbiddenTransition, NotFound
from ppb.domain.messages import ManagedMessage, MessageType
from ppb.domain.status import UserEvent, UserStatus
from ppb.store.queries import Store
from tests.conftest import API_KEY, REDIS_TEST_URL, eventually

JOURNEY = [UserEvent.START, UserEvent.START_TRAINING, UserEvent.COMPLETE_TRAINING, UserEvent.VIEW_FEED]


@pytest.fixture(scope="module")
def actor_settings(ray_session: None, database_url: str) -> Iterator[Settings]:
    """Settings with a Ray namespace of their own, so these shards are this module's alone."""
    settings = load_settings(
        DATABASE_URL=database_url,
        PPB_API_KEY=API_KEY,
        REDIS_URL=REDIS_TEST_URL,
        PPB_RAY_NAMESPACE=f"ppb-test-{uuid.uuid4().hex[:8]}",
        PPB_USER_SHARDS=2,
        PPB_CHAT_SHARDS=2,
    )
    yield settings
    UserShards(settings, open_store).shards.kill_all()
    ChatShards(settings).shards.kill_all()


async def pids(shards: ShardSet) -> list[int]:
    return [(await shards.call(index, "stats"))["pid"] for index in range(shards.count)]


async def test_transitions_go_through_the_shards(actor_settings: Settings, store: Store, new_id) -> None:
    users = UserShards(actor_settings, open_store)
    telegram_id = new_id()
    await store.upsert_user(telegram_id, None, None, None)
    assert (await users.apply(telegram_id, UserEvent.START, {"via": "test"}))["status"] == "onboarding"
    with pytest.raises(ForbiddenTransition):
        await users.apply(telegram_id, UserEvent.VIEW_FEED, None)
    results = await users.apply_many(
        [EventRequest(telegram_id, UserEvent.START_TRAINING), EventRequest(new_id(), UserEvent.START)]
    )
    assert results[0].error is None and isinstance(results[1].error, NotFound)  # crossed Ray as itself
    found = await users.get_many([new_id(), telegram_id])
    assert found[0] is None and found[1] is not None and found[1]["status"] == "training"


async def test_concurrent_transitions_go_together_and_each_caller_hears_its_own(
    actor_settings: Settings, store: Store, new_id
) -> None:
    """Forty people at once: their events share calls to the shards, yet each caller gets
    its own user (or its own error), a user's two events in the order made, all stored."""
    users = UserShards(actor_settings, open_store)
    ids = [new_id() for _ in range(40)]
    for telegram_id in ids:
        await store.upsert_user(telegram_id, None, None, None)
    unknown = new_id()

    async def person(telegram_id: int) -> list[str]:
        first, second = await asyncio.gather(users.apply(telegram_id, UserEvent.START, None),
                                             users.apply(telegram_id, UserEvent.START_TRAINING, None))
        return [first["status"], second["status"], str(first["telegram_id"])]

    answers = await asyncio.gather(*(person(t) for t in ids), users.apply(unknown, UserEvent.START, None),
                                   users.apply(ids[0], UserEvent.VIEW_FEED, None), return_exceptions=True)
    assert answers[:40] == [["onboarding", "training", str(t)] for t in ids]
    assert isinstance(answers[40], NotFound) and isinstance(answers[41], ForbiddenTransition)
    for telegram_id in ids:
        assert (await store.get_user(telegram_id))["status"] == UserStatus.TRAINING.value


async def test_registries_go_through_the_shards_one_call_per_shard(actor_settings: Settings, new_id) -> None:
    chats = ChatShards(actor_settings)
    chat_ids = [new_id() for _ in range(6)]
    sent = [ManagedMessage(chat_id, n, MessageType.ONETIME) for chat_id in chat_ids for n in (1, 2)]
    assert await chats.register_many(sent) == [True] * len(sent)
    assert await chats.register_many(sent[:3]) == [False] * 3
    await chats.register(ManagedMessage(chat_ids[0], 3, MessageType.EPHEMERAL))
    assert await chats.clear_type(chat_ids[0], MessageType.EPHEMERAL, "req-1") == [3]
    assert await chats.remove(chat_ids[0], 1) is True
    assert [m.message_id for m in await chats.get_messages(chat_ids[0])] == [2]


async def test_killing_user_shards_mid_stream_loses_no_acknowledged_transition(
    actor_settings: Settings, store: Store, new_id
) -> None:
    users = UserShards(actor_settings, open_store)
    ids = [new_id() for _ in range(30)]
    for telegram_id in ids:
        await store.upsert_user(telegram_id, None, None, None)
    acknowledged: dict[int, list[str]] = {telegram_id: [] for telegram_id in ids}
    killed = asyncio.Event()

    async def journey(telegram_id: int) -> None:
        for step, event in enumerate(JOURNEY):
            if step == 2:  # the rest after the kill (events of many users share a call: quick)
                await killed.wait()
            row = await users.apply(telegram_id, event, None)
            acknowledged[telegram_id].append(row["status"])

    stream = asyncio.gather(*(journey(telegram_id) for telegram_id in ids))

    async def some_acknowledged() -> bool:
        return sum(len(statuses) for statuses in acknowledged.values()) >= 10

    await eventually(some_acknowledged, 60, "the first acknowledged transitions")
    before = await pids(users.shards)
    for index in range(users.shards.count):
        ray.kill(users.shards.handle(index), no_restart=False)
    killed.set()
    await asyncio.wait_for(stream, 120)
    assert not set(before) & set(await pids(users.shards))  # every shard is a new process

    for telegram_id in ids:
        assert acknowledged[telegram_id] == ["onboarding", "training", "trained", "active"]
        stored = await store.get_user(telegram_id)
        assert stored["status"] == UserStatus.ACTIVE.value
        log = [row["action"] for row in await store.user_log(stored["id"])]
        assert log == [f"status:{event.value}" for event in JOURNEY]  # each move once, none twice
    assert (await users.get(ids[0]))["status"] == "active"  # the restarted shard answers


async def test_killing_chat_shards_mid_stream_loses_no_acknowledged_message(
    actor_settings: Settings, new_id
) -> None:
    chats = ChatShards(actor_settings)
    chat_ids = [new_id() for _ in range(8)]
    acknowledged: dict[int, list[int]] = {chat_id: [] for chat_id in chat_ids}

    async def conversation(chat_id: int) -> None:
        for message_id in range(1, 26):
            await chats.register(ManagedMessage(chat_id, message_id, MessageType.ONETIME))
            acknowledged[chat_id].append(message_id)

    stream = asyncio.gather(*(conversation(chat_id) for chat_id in chat_ids))

    async def some_acknowledged() -> bool:
        return sum(len(ids) for ids in acknowledged.values()) >= 20

    await eventually(some_acknowledged, 60, "the first acknowledged registrations")
    before = await pids(chats.shards)
    for index in range(chats.shards.count):
        ray.kill(chats.shards.handle(index), no_restart=False)
    await asyncio.wait_for(stream, 120)
    assert not set(before) & set(await pids(chats.shards))

    for chat_id in chat_ids:
        kept = [message.message_id for message in await chats.get_messages(chat_id)]
        assert kept == acknowledged[chat_id] == list(range(1, 26))
    latest = await chats.get_latest(chat_ids[0], MessageType.ONETIME)
    assert latest is not None and latest.message_id == 25


async def test_the_bots_copy_of_a_registry_sees_what_others_write_also_across_a_restart(
    actor_settings: Settings, new_id
) -> None:
    """The bot's cache answers reads itself, yet a push the outbox registers (another
    client of the shards) is in its next read, also once the shard was killed and restarted."""
    cache = CachedChatShards(ChatShards(actor_settings).shards)
    outbox = ChatShards(actor_settings)
    chat_id = new_id()

    async def answered_by_the_cache() -> bool:
        hits = cache.hits
        await cache.get_messages(chat_id)
        return cache.hits > hits

    try:
        await cache.register(ManagedMessage(chat_id, 1, MessageType.SYSTEM, "menu"))
        await eventually(answered_by_the_cache, 60, "a read answered beside the bot")
        await outbox.register(ManagedMessage(chat_id, 2, MessageType.ONETIME))
        assert [m.message_id for m in await cache.get_messages(chat_id)] == [1, 2]
        await eventually(answered_by_the_cache, 60, "the copy read anew")

        ray.kill(cache.shards.handle(cache.shards.index_of(chat_id)), no_restart=False)
        await outbox.register(ManagedMessage(chat_id, 3, MessageType.ONETIME))
        assert [m.message_id for m in await cache.get_messages(chat_id)] == [1, 2, 3]
        await eventually(answered_by_the_cache, 60, "reads answered beside the bot after the restart")
        assert [m.message_id for m in await cache.get_messages(chat_id)] == [1, 2, 3]
    finally:
        await cache.close()
