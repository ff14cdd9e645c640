"""The bot's copy of each chat's registry (`CachedChatShards`) over real chat shards in this
process: reads answered beside the bot, yet every change made elsewhere (the outbox, a
webhook replica, another bot) is seen by the next read once that change is acknowledged,
also when the cache stops listening or a shard starts anew."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from ppb.actors.chat_cache import CachedChatShards
from ppb.actors.chat_shard import ChatShard
from ppb.actors.chat_state import MemoryChatState
from ppb.actors.routing import shard_of
from ppb.domain.messages import ManagedMessage, MessageType

M = MessageType
LEASE = 0.4
WATCH = 0.05


class LocalShards:
    """Chat shards called by index in this process (what `ShardSet` does through Ray); a
    shard can be started anew over the same state, as Ray restarts an actor."""

    def __init__(self, count: int = 2, lease: float = LEASE, grace: float = LEASE) -> None:
        self.states = [MemoryChatState() for _ in range(count)]
        self.lease, self.grace = lease, grace
        self.instances = [self.start(index) for index in range(count)]

    def start(self, index: int) -> ChatShard:
        return ChatShard(self.states[index], lease=self.lease, grace=self.grace)

    def restart(self, index: int) -> None:
        self.instances[index] = self.start(index)

    @property
    def count(self) -> int:
        return len(self.instances)

    def index_of(self, key: int | str) -> int:
        return shard_of(key, self.count)

    async def call(self, index: int, method: str, *args: Any) -> Any:
        return await getattr(self.instances[index], method)(*args)

    async def call_for(self, key: int, method: str, *args: Any) -> Any:
        return await self.call(self.index_of(key), method, *args)


@pytest.fixture
async def shards() -> AsyncIterator[LocalShards]:
    found = LocalShards()
    await asyncio.sleep(LEASE)  # past the shards' grace after starting
    yield found


@pytest.fixture
async def cache(shards: LocalShards) -> AsyncIterator[CachedChatShards]:
    cached = CachedChatShards(shards, lease=LEASE, watch=WATCH)
    yield cached
    await cached.close()


def message(chat_id: int, message_id: int, type: MessageType = M.ONETIME, tag: str | None = None) -> ManagedMessage:
    return ManagedMessage(chat_id, message_id, type, tag, sent_at=1_700_000_000.0 + message_id)


async def watched(cache: CachedChatShards, chat_id: int) -> None:
    """Read until the read is answered beside the bot (the watcher has heard from the shard)."""
    deadline = asyncio.get_running_loop().time() + 10
    while asyncio.get_running_loop().time() < deadline:
        hits = cache.hits
        await cache.get_messages(chat_id)
        if cache.hits > hits:
            return
        await asyncio.sleep(WATCH / 5)
    raise AssertionError("the cache never answered a read itself")


async def test_reads_are_answered_beside_the_bot_and_own_changes_keep_the_copy(
        cache: CachedChatShards, shards: LocalShards) -> None:
    await cache.register(message(1, 10, M.SYSTEM, "menu"))
    await watched(cache, 1)
    await cache.register(message(1, 11, M.EPHEMERAL))
    hits = cache.hits
    assert [m.message_id for m in await cache.get_messages(1)] == [10, 11]
    assert [m.message_id for m in await cache.get_messages(1, M.SYSTEM, "menu")] == [10]
    assert cache.hits == hits + 2  # both from the copy the change answered
    assert await cache.clear_type(1, M.EPHEMERAL, "r1") == [11]
    assert await cache.remove(1, 10) is True
    assert await cache.get_messages(1) == []
    assert await shards.call_for(1, "get_messages", 1) == []  # every change made at the shard


async def test_a_change_made_elsewhere_is_seen_by_the_next_read(cache: CachedChatShards, shards: LocalShards) -> None:
    await cache.register(message(2, 10, M.SYSTEM, "menu"))
    await watched(cache, 2)
    # the outbox (no cache) sends a push: acknowledged only once the cache dropped its copy
    await shards.call_for(2, "register", message(2, 11))
    assert [m.message_id for m in await cache.get_messages(2)] == [10, 11]
    other = CachedChatShards(shards, lease=LEASE, watch=WATCH)  # a webhook replica's bot
    try:
        await watched(other, 2)
        await watched(cache, 2)
        assert await other.remove(2, 10) is True
        assert [m.message_id for m in await cache.get_messages(2)] == [11]
        await cache.forget(2)
        assert await other.get_messages(2) == []
    finally:
        await other.close()


async def test_concurrent_changes_elsewhere_leave_no_stale_copy(cache: CachedChatShards, shards: LocalShards) -> None:
    chats = list(range(100, 110))
    for chat_id in chats:
        await cache.register(message(chat_id, 1, M.SYSTEM, "menu"))
        await watched(cache, chat_id)

    async def outbox(chat_id: int) -> None:
        for message_id in range(2, 12):
            await shards.call_for(chat_id, "register", message(chat_id, message_id))

    async def bot(chat_id: int) -> None:
        for _ in range(20):
            await cache.get_messages(chat_id)
            await asyncio.sleep(0)

    await asyncio.gather(*(outbox(c) for c in chats), *(bot(c) for c in chats))
    for chat_id in chats:
        assert [m.message_id for m in await cache.get_messages(chat_id)] == list(range(1, 12))


async def test_a_cache_that_stops_listening_holds_no_write_back_nor_trusts_its_copies(
        cache: CachedChatShards, shards: LocalShards) -> None:
    await cache.register(message(3, 10, M.SYSTEM, "menu"))
    await watched(cache, 3)
    for task in cache._watchers:  # as a bot that died: nobody acknowledges for it, nor says goodbye
        task.cancel()
    await asyncio.wait_for(shards.call_for(3, "register", message(3, 11)), 10)  # given up after the lease
    hits = cache.hits
    assert [m.message_id for m in await cache.get_messages(3)] == [10, 11]
    assert cache.hits == hits  # read at the shard: its copies are trusted no longer


async def test_a_shard_started_anew_is_not_hidden_by_old_copies(cache: CachedChatShards, shards: LocalShards) -> None:
    await cache.register(message(4, 10, M.SYSTEM, "menu"))
    await watched(cache, 4)
    index = shards.index_of(4)
    shards.restart(index)  # it knows no holders: it waits the lease out before any write
    await shards.call_for(4, "register", message(4, 11))
    assert [m.message_id for m in await cache.get_messages(4)] == [10, 11]
    await watched(cache, 4)  # and the cache answers again once it heard the new shard
    assert [m.message_id for m in await cache.get_messages(4)] == [10, 11]


async def test_a_cache_that_closes_tells_the_shards_so_no_write_waits_for_it() -> None:
    shards = LocalShards(lease=600, grace=0)  # a bot given up on only after ten minutes
    cache = CachedChatShards(shards, lease=600, watch=WATCH)
    await cache.register(message(5, 10, M.SYSTEM, "menu"))
    await watched(cache, 5)
    await cache.close()
    await asyncio.wait_for(shards.call_for(5, "register", message(5, 11)), 10)  # not held back
    assert [m.message_id for m in await shards.call_for(5, "get_messages", 5)] == [10, 11]
