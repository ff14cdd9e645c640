"""The chat shard as plain Python: the MessageRegistry of DESIGN section 6, in memory and
in the real Redis, bounded, idempotent, and written before it is acknowledged."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from ppb.actors.chat_shard import ChatShard
from ppb.actors.chat_state import ChatState, MemoryChatState, RedisChatState
from ppb.domain.messages import ManagedMessage, MessageType
from tests.conftest import REDIS_TEST_URL

M = MessageType


@pytest.fixture(params=["memory", "redis"])
async def state(request: pytest.FixtureRequest) -> AsyncIterator[ChatState]:
    if request.param == "memory":
        yield MemoryChatState()
        return
    redis_state = RedisChatState(REDIS_TEST_URL, prefix=f"ppb-test-{uuid.uuid4().hex[:8]}")
    yield redis_state
    await redis_state.close()


def message(chat_id: int, message_id: int, type: MessageType, tag: str | None = None) -> ManagedMessage:
    return ManagedMessage(chat_id, message_id, type, tag, sent_at=1_700_000_000.0 + message_id)


async def test_registry_keeps_order_and_filters_by_type_and_tag(state: ChatState) -> None:
    shard = ChatShard(state)
    for sent in [
        message(1, 10, M.SYSTEM, "menu"),
        message(1, 11, M.EPHEMERAL),
        message(1, 12, M.ONETIME),
        message(1, 13, M.SYSTEM, "settings"),
        message(2, 10, M.SYSTEM, "menu"),
    ]:
        await shard.register(sent)
    assert [m.message_id for m in await shard.get_messages(1)] == [10, 11, 12, 13]
    assert [m.message_id for m in await shard.get_messages(1, M.SYSTEM)] == [10, 13]
    assert [m.message_id for m in await shard.get_messages(1, M.SYSTEM, "menu")] == [10]
    latest = await shard.get_latest(1, M.SYSTEM)
    assert latest is not None and latest.message_id == 13 and latest.tag == "settings"
    assert await shard.get_latest(1, M.EPHEMERAL, "nope") is None
    assert [m.chat_id for m in await shard.get_messages(2)] == [2]


async def test_register_and_remove_are_safe_to_repeat(state: ChatState) -> None:
    shard = ChatShard(state)
    await shard.register(message(1, 10, M.EPHEMERAL))
    await shard.register(message(1, 10, M.EPHEMERAL))
    assert len(await shard.get_messages(1)) == 1
    assert await shard.remove(1, 10) is True
    assert await shard.remove(1, 10) is False
    assert await shard.get_messages(1) == []


async def test_clear_type_returns_ids_once_and_again_for_the_same_request(state: ChatState) -> None:
    shard = ChatShard(state)
    for n, type in enumerate([M.EPHEMERAL, M.SYSTEM, M.EPHEMERAL, M.ONETIME]):
        await shard.register(message(1, 20 + n, type))
    assert await shard.clear_type(1, M.EPHEMERAL, request_id="r1") == [20, 22]
    assert await shard.clear_type(1, M.EPHEMERAL, request_id="r1") == [20, 22]  # a retry
    assert await shard.clear_type(1, M.EPHEMERAL, request_id="r2") == []
    assert [m.message_id for m in await shard.get_messages(1)] == [21, 23]


async def test_each_chat_is_bounded_dropping_old_feed_posts_first(state: ChatState) -> None:
    shard = ChatShard(state, limit=10)
    await shard.register(message(1, 1, M.SYSTEM, "menu"))
    for n in range(2, 30):
        await shard.register(message(1, n, M.ONETIME))
    kept = await shard.get_messages(1)
    assert len(kept) == 10
    assert kept[0].message_id == 1  # the menu outlives the posts
    assert [m.message_id for m in kept[1:]] == list(range(21, 30))


async def test_a_new_shard_over_redis_sees_what_the_old_one_acknowledged() -> None:
    prefix = f"ppb-test-{uuid.uuid4().hex[:8]}"
    first = ChatShard(RedisChatState(REDIS_TEST_URL, prefix))
    await first.register(message(5, 1, M.SYSTEM, "menu"))
    await first.register(message(5, 2, M.EPHEMERAL))
    await first.clear_type(5, M.EPHEMERAL, request_id="once")
    second = ChatShard(RedisChatState(REDIS_TEST_URL, prefix))
    assert [m.message_id for m in await second.get_messages(5)] == [1]
    assert await second.clear_type(5, M.EPHEMERAL, request_id="once") == [2]  # retry after restart


class FailingState(MemoryChatState):
    def __init__(self) -> None:
        super().__init__()
        self.fail = False

    async def save(self, chat_id: int, snapshot: dict[str, Any]) -> None:
        if self.fail:
            raise ConnectionError("redis is down")
        await super().save(chat_id, snapshot)


async def test_a_change_that_could_not_be_stored_did_not_happen() -> None:
    state = FailingState()
    shard = ChatShard(state)
    await shard.register(message(1, 1, M.EPHEMERAL))
    state.fail = True
    with pytest.raises(ConnectionError):
        await shard.register(message(1, 2, M.EPHEMERAL))
    with pytest.raises(ConnectionError):
        await shard.remove(1, 1)
    assert [m.message_id for m in await shard.get_messages(1)] == [1]


async def test_idle_chats_are_evicted_only_when_stored_elsewhere() -> None:
    now = [0.0]
    memory = ChatShard(MemoryChatState(), idle_after=10, clock=lambda: now[0])
    redis_backed = ChatShard(
        RedisChatState(REDIS_TEST_URL, f"ppb-test-{uuid.uuid4().hex[:8]}"), idle_after=10, clock=lambda: now[0]
    )
    for shard in (memory, redis_backed):
        await shard.register(message(1, 1, M.SYSTEM, "menu"))
    now[0] = 11
    assert memory.evict_idle() == 0
    assert redis_backed.evict_idle() == 1
    assert [m.message_id for m in await redis_backed.get_messages(1)] == [1]


class CountingState(MemoryChatState):
    def __init__(self) -> None:
        super().__init__()
        self.saves = 0

    async def save(self, chat_id: int, snapshot: dict[str, Any]) -> None:
        self.saves += 1
        await super().save(chat_id, snapshot)


async def test_register_many_writes_once_per_chat_and_skips_known_messages() -> None:
    state = CountingState()
    shard = ChatShard(state)
    await shard.register(message(1, 1, M.ONETIME))
    album = [message(1, 1, M.ONETIME), message(1, 2, M.ONETIME), message(2, 7, M.ONETIME), message(1, 2, M.ONETIME)]
    assert await shard.register_many(album) == [False, True, True, False]
    assert state.saves == 3  # the first register, then one per chat
    assert [m.message_id for m in await shard.get_messages(1)] == [1, 2]
