"""The shards as Ray actors, and the clients that route to them and ride out restarts.

A shard actor is created by name (`users-<k>`, `chats-<k>`) with `get_if_exists=True`,
detached so it outlives whoever created it, and restarted by Ray when it dies. Its
methods are idempotent, so Ray retries them across a restart and the client retries
them again until a deadline; only then does a caller see `Unavailable` (a 503).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

import ray
from ray.exceptions import ActorDiedError, ActorUnavailableError, GetTimeoutError, RayTaskError
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from ppb import heap
from ppb.actors.chat_leases import LEASE_S
from ppb.actors.chat_shard import ChatShard
from ppb.actors.chat_state import MemoryChatState, RedisChatState
from ppb.actors.coalesce import Coalescer
from ppb.actors.named import kill_named, named_actor
from ppb.actors.routing import shard_name, shard_of
from ppb.actors.user_shard import EventRequest, EventResult, UserShard
from ppb.config import Settings
from ppb.domain.errors import Unavailable
from ppb.domain.messages import ManagedMessage, MessageType
from ppb.domain.status import UserEvent
from ppb.store.queries import Store

log = logging.getLogger(__name__)

RETRIES = 5
"""Times Ray re-sends a call to a shard that died while running it."""
UNAVAILABLE_AFTER_S = 30.0
"""How long a client keeps trying a shard that is restarting before giving up."""
EVICT_EVERY_S = 30.0

ACTOR_OPTIONS: dict[str, Any] = {"num_cpus": 0, "max_restarts": -1, "max_concurrency": 1000}

StoreBuilder = Callable[[Settings], Store]
"""Opens a user shard's own store (the composition root's)."""


async def _evict_forever(shard: UserShard | ChatShard) -> None:
    settled = False
    while True:
        await asyncio.sleep(EVICT_EVERY_S)
        if not settled:  # built by now: out of the collector's walks (ppb/heap.py), not during start-up
            heap.settle()
            settled = True
        shard.evict_idle()


@ray.remote(**ACTOR_OPTIONS)
class UserShardActor:
    """`users-<k>`: the state machines of the users whose id routes here."""

    def __init__(self, settings: Settings, index: int, open_store: StoreBuilder) -> None:
        self._index = index
        self._store = open_store(settings)
        self._shard = UserShard(self._store, settings.shard_idle_after)
        self._connected: asyncio.Task | None = None
        self._evictor: asyncio.Task | None = None

    async def _ready(self) -> UserShard:
        """Connect to the store on first use, and again after a failed attempt."""
        failed = self._connected is not None and self._connected.done() and (
            self._connected.cancelled() or self._connected.exception() is not None
        )
        if self._connected is None or failed:
            self._connected = asyncio.ensure_future(self._store.connect())
        if self._evictor is None:
            self._evictor = asyncio.ensure_future(_evict_forever(self._shard))
        await asyncio.shield(self._connected)
        return self._shard

    @ray.method(max_task_retries=RETRIES)
    async def apply(self, telegram_id: int, event: str, details: dict | None = None) -> dict:
        return await (await self._ready()).apply(telegram_id, UserEvent(event), details)

    @ray.method(max_task_retries=RETRIES)
    async def apply_many(self, requests: list[EventRequest]) -> list[EventResult]:
        return await (await self._ready()).apply_many(requests)

    @ray.method(max_task_retries=RETRIES)
    async def get(self, telegram_id: int) -> dict:
        return await (await self._ready()).get(telegram_id)

    @ray.method(max_task_retries=RETRIES)
    async def get_many(self, telegram_ids: list[int]) -> list[dict | None]:
        return await (await self._ready()).get_many(telegram_ids)

    @ray.method(max_task_retries=RETRIES)
    async def stats(self) -> dict[str, Any]:
        shard = await self._ready()
        return {"index": self._index, "active": shard.active_count(), **_whereabouts()}


@ray.remote(**ACTOR_OPTIONS)
class ChatShardActor:
    """`chats-<k>`: the message registries of the chats whose id routes here."""

    def __init__(self, settings: Settings, index: int) -> None:
        self._index = index
        state = RedisChatState(settings.redis_url_value) if settings.redis_url_value else MemoryChatState()
        self._shard = ChatShard(state, settings.chat_registry_limit, settings.shard_idle_after,
                                grace=LEASE_S)  # restarted, it may have had holders it forgot
        self._evictor: asyncio.Task | None = None

    def _ready(self) -> ChatShard:
        if self._evictor is None:
            self._evictor = asyncio.ensure_future(_evict_forever(self._shard))
        return self._shard

    @ray.method(max_task_retries=RETRIES)
    async def register(self, message: ManagedMessage) -> None:
        await self._ready().register(message)

    @ray.method(max_task_retries=RETRIES)
    async def register_many(self, messages: list[ManagedMessage]) -> list[bool]:
        return await self._ready().register_many(messages)

    @ray.method(max_task_retries=RETRIES)
    async def get_messages(
        self, chat_id: int, type: MessageType | None = None, tag: str | None = None
    ) -> list[ManagedMessage]:
        return await self._ready().get_messages(chat_id, type, tag)

    @ray.method(max_task_retries=RETRIES)
    async def get_latest(
        self, chat_id: int, type: MessageType | None = None, tag: str | None = None
    ) -> ManagedMessage | None:
        return await self._ready().get_latest(chat_id, type, tag)

    @ray.method(max_task_retries=RETRIES)
    async def remove(self, chat_id: int, message_id: int) -> bool:
        return await self._ready().remove(chat_id, message_id)

    @ray.method(max_task_retries=RETRIES)
    async def clear_type(
        self, chat_id: int, type: MessageType, request_id: str | None = None
    ) -> list[int]:
        return await self._ready().clear_type(chat_id, type, request_id)

    @ray.method(max_task_retries=RETRIES)
    async def forget(self, chat_id: int) -> None:
        await self._ready().forget(chat_id)

    @ray.method(max_task_retries=RETRIES)
    async def held(self, holder: str, chat_id: int, method: str | None = None,
                   *args: Any) -> tuple[Any, str, int, list[ManagedMessage]]:
        return await self._ready().held(holder, chat_id, method, *args)

    @ray.method(max_task_retries=RETRIES)
    async def release(self, holder: str) -> None:
        await self._ready().release(holder)

    @ray.method(max_task_retries=RETRIES)
    async def watch(self, holder: str, epoch: str | None, acknowledged: int,
                    wait: float) -> tuple[str, int, list[tuple[int, int]]]:
        return await self._ready().watch(holder, epoch, acknowledged, wait)

    @ray.method(max_task_retries=RETRIES)
    async def stats(self) -> dict[str, Any]:
        return {"index": self._index, "active": self._ready().active_count(), **_whereabouts()}


def _whereabouts() -> dict[str, Any]:
    """The node and process a shard runs in (they change when it is restarted)."""
    return {"node": ray.get_runtime_context().get_node_id(), "pid": os.getpid()}


def _placement(index: int) -> Any:
    """Where shard `index` starts: the alive nodes in turn, by index (Ray's SPREAD is best
    effort and once put every new shard on one node), soft, so a shard whose node is gone
    starts on another."""
    nodes = sorted(node["NodeID"] for node in ray.nodes() if node["Alive"])
    if not nodes:
        return "SPREAD"
    return NodeAffinitySchedulingStrategy(nodes[index % len(nodes)], soft=True)


class ShardSet:
    """Handles to one kind of shard, by index; calls retried while a shard restarts."""

    def __init__(self, actor_class: Any, kind: str, count: int, settings: Settings, *builders: Any) -> None:
        self._actor_class = actor_class
        self._kind = kind
        self._count = count
        self._settings = settings
        self._builders = builders  # what each shard is created with beside the settings and its index
        self._handles: dict[int, Any] = {}

    @property
    def count(self) -> int:
        return self._count

    def index_of(self, key: int | str) -> int:
        return shard_of(key, self._count)

    def handle(self, index: int) -> Any:
        handle = self._handles.get(index)
        if handle is None:
            handle = named_actor(
                self._actor_class, shard_name(self._kind, index), self._settings, index, *self._builders,
                scheduling_strategy=_placement(index),
            )
            self._handles[index] = handle
        return handle

    def start_all(self) -> list[Any]:
        return [self.handle(index) for index in range(self._count)]

    async def call(self, index: int, method: str, *args: Any) -> Any:
        """Call a shard's (idempotent) method, riding out its restart; errors of the
        method itself (a 404, a 409) reach the caller as they were raised."""
        deadline = time.monotonic() + UNAVAILABLE_AFTER_S
        delay = 0.05
        while True:
            try:
                return await getattr(self.handle(index), method).remote(*args)
            except RayTaskError as error:
                raise (error.cause or error) from None
            except (ActorDiedError, ActorUnavailableError, GetTimeoutError) as error:
                if time.monotonic() >= deadline:
                    name = shard_name(self._kind, index)
                    raise Unavailable(f"{name} is not answering; try again shortly") from error
                log.info("%s-%d unavailable (%s); retrying", self._kind, index, type(error).__name__)
                if isinstance(error, ActorDiedError):
                    self._handles.pop(index, None)  # gone for good: get (or make) it anew by name
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)

    async def call_for(self, key: int | str, method: str, *args: Any) -> Any:
        return await self.call(self.index_of(key), method, *args)

    async def call_batched(
        self, keys: Sequence[int | str], method: str, items: Sequence[Any]
    ) -> list[Any]:
        """Send each item to the shard its key routes to, one call per shard taking a list
        and answering a list; the answers come back in the items' order."""
        groups: dict[int, list[int]] = {}
        for position, key in enumerate(keys):
            groups.setdefault(self.index_of(key), []).append(position)
        answers: list[Any] = [None] * len(items)

        async def run(index: int, positions: list[int]) -> None:
            got = await self.call(index, method, [items[position] for position in positions])
            for position, answer in zip(positions, got):
                answers[position] = answer

        await asyncio.gather(*(run(index, positions) for index, positions in groups.items()))
        return answers

    def kill_all(self) -> None:
        """Stop every shard of this kind for good (a deployment taken off a cluster)."""
        for index in range(self._count):
            kill_named(shard_name(self._kind, index), self._settings)
        self._handles.clear()


class UserShards:
    """The client of `users-<k>`: every transition and activity of a user goes here; a shard
    it finds missing is created over a store `open_store` opens."""

    def __init__(self, settings: Settings, open_store: StoreBuilder) -> None:
        self.shards = ShardSet(UserShardActor, "users", settings.user_shards, settings, open_store)
        self._events: dict[int, Coalescer[EventRequest, EventResult]] = {}

    async def apply(self, telegram_id: int, event: UserEvent, details: dict[str, Any] | None) -> dict:
        """One event; those made while an earlier call to the same shard is on its way go
        together in its next call (`apply_many`: each user's in order, written before any
        caller hears back)."""
        index = self.shards.index_of(telegram_id)
        events = self._events.get(index)
        if events is None:
            events = self._events[index] = Coalescer(functools.partial(self.shards.call, index, "apply_many"))
        result = await events.submit(EventRequest(telegram_id, event, details))
        if result.error is not None:
            raise result.error
        assert result.user is not None
        return result.user

    async def apply_many(self, requests: Sequence[EventRequest]) -> list[EventResult]:
        """Many events, one call per shard; each user's in order; results in order."""
        return await self.shards.call_batched([r.telegram_id for r in requests], "apply_many", requests)

    async def get(self, telegram_id: int) -> dict:
        return await self.shards.call_for(telegram_id, "get", telegram_id)

    async def get_many(self, telegram_ids: Sequence[int]) -> list[dict | None]:
        """Several users, one call per shard; None for an unknown one; in order."""
        return await self.shards.call_batched(telegram_ids, "get_many", telegram_ids)


class ChatShards:
    """The client of `chats-<k>`: the MessageRegistry API of DESIGN section 6."""

    def __init__(self, settings: Settings) -> None:
        self.shards = ShardSet(ChatShardActor, "chats", settings.chat_shards, settings)

    async def register(self, message: ManagedMessage) -> None:
        await self.shards.call_for(message.chat_id, "register", message)

    async def register_many(self, messages: Sequence[ManagedMessage]) -> list[bool]:
        """Several messages, one call per shard; True for each one not tracked before."""
        return await self.shards.call_batched([m.chat_id for m in messages], "register_many", messages)

    async def get_messages(
        self, chat_id: int, type: MessageType | None = None, tag: str | None = None
    ) -> list[ManagedMessage]:
        return await self.shards.call_for(chat_id, "get_messages", chat_id, type, tag)

    async def get_latest(
        self, chat_id: int, type: MessageType | None = None, tag: str | None = None
    ) -> ManagedMessage | None:
        return await self.shards.call_for(chat_id, "get_latest", chat_id, type, tag)

    async def remove(self, chat_id: int, message_id: int) -> bool:
        return await self.shards.call_for(chat_id, "remove", chat_id, message_id)

    async def clear_type(
        self, chat_id: int, type: MessageType, request_id: str | None = None
    ) -> list[int]:
        return await self.shards.call_for(chat_id, "clear_type", chat_id, type, request_id)

    async def forget(self, chat_id: int) -> None:
        await self.shards.call_for(chat_id, "forget", chat_id)
