"""The bot's client of the `chats-<k>` shards with each chat's registry kept beside the bot:
a read of a chat it has read before costs no call to a shard.

The registries still live in the shards (webhook replicas, the outbox and a restarted bot
read and write them there), and every change still goes to its shard before it is
acknowledged. The copies stay right because the shard tells the cache of every change
made by anyone else and acknowledges that change only once the cache has dropped its copy
(`chat_leases.py`): one `watch` call waiting at each shard answers with the chats changed.
The cache trusts its copies from a shard only while that shard keeps answering: for
`lease` seconds after the last answered `watch` was sent; past that, and when a shard
starts anew (a new epoch), every read goes to the shard again.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ppb.actors.chat_leases import LEASE_S, WATCH_S
from ppb.domain.messages import ManagedMessage, MessageType

log = logging.getLogger(__name__)

RELEASE_S = 2.0
"""How long a stopping cache waits to tell the shards it keeps nothing."""
REMEMBERED = 100_000
"""Chats whose registry (or whose last version seen) the cache keeps, the least recent dropped."""


class Shards(Protocol):
    """Calls to the chat shards by index (`ShardSet`)."""

    @property
    def count(self) -> int: ...

    def index_of(self, key: int | str) -> int: ...

    async def call(self, index: int, method: str, *args: Any) -> Any: ...


@dataclass(slots=True)
class Copy:
    version: int
    """The newest version seen: an answer about an older one is not kept."""
    messages: list[ManagedMessage] | None
    """None when the chat changed elsewhere since (read it from the shard)."""


class CachedChatShards:
    """The MessageRegistry API of DESIGN section 6 over the chat shards, reads answered from
    copies kept right by the shards."""

    def __init__(self, shards: Shards, lease: float = LEASE_S, watch: float = WATCH_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.shards = shards
        self._lease = lease
        self._watch_s = watch
        self._clock = clock
        self._holder = uuid.uuid4().hex
        self._copies: OrderedDict[int, Copy] = OrderedDict()
        self._epochs: list[str | None] = [None] * shards.count
        self._trusted_until = [0.0] * shards.count
        self._watchers: list[asyncio.Task[None]] = []
        self.hits = 0
        self.reads = 0
        """Reads answered here, and reads in all (for the bench and the tests)."""

    async def get_messages(self, chat_id: int, type: MessageType | None = None,
                           tag: str | None = None) -> list[ManagedMessage]:
        self._watching()
        self.reads += 1
        index = self.shards.index_of(chat_id)
        known = self._copies.get(chat_id)
        if known is not None and known.messages is not None and self._clock() < self._trusted_until[index]:
            self.hits += 1
            self._copies.move_to_end(chat_id)
            messages = known.messages
        else:
            messages = await self._held(chat_id, None)
        return [message for message in messages if message.matches(type, tag)]

    async def get_latest(self, chat_id: int, type: MessageType | None = None,
                         tag: str | None = None) -> ManagedMessage | None:
        found = await self.get_messages(chat_id, type, tag)
        return found[-1] if found else None

    async def register(self, message: ManagedMessage) -> None:
        await self._held(message.chat_id, "register", message)

    async def register_many(self, messages: Sequence[ManagedMessage]) -> list[bool]:
        """Several chats at once, as anyone else writes them (the shards tell this cache)."""
        self._watching()
        groups: dict[int, list[int]] = {}
        for position, message in enumerate(messages):
            groups.setdefault(self.shards.index_of(message.chat_id), []).append(position)
        added = [False] * len(messages)

        async def run(index: int, positions: list[int]) -> None:
            got = await self.shards.call(index, "register_many", [messages[p] for p in positions])
            for position, answer in zip(positions, got):
                added[position] = answer

        await asyncio.gather(*(run(index, positions) for index, positions in groups.items()))
        return added

    async def remove(self, chat_id: int, message_id: int) -> bool:
        return bool(await self._held(chat_id, "remove", chat_id, message_id, result=True))

    async def clear_type(self, chat_id: int, type: MessageType, request_id: str | None = None) -> list[int]:
        return list(await self._held(chat_id, "clear_type", chat_id, type, request_id, result=True))

    async def forget(self, chat_id: int) -> None:
        await self._held(chat_id, "forget", chat_id)

    async def close(self) -> None:
        """Stop watching the shards (the copies are trusted no longer), and tell them so: no
        change waits for this cache (best effort: a shard away gives up on it by itself)."""
        watched = bool(self._watchers)
        for task in self._watchers:
            task.cancel()
        await asyncio.gather(*self._watchers, return_exceptions=True)
        self._watchers.clear()
        self._trusted_until = [0.0] * self.shards.count
        if watched:
            await asyncio.gather(*(asyncio.wait_for(self.shards.call(index, "release", self._holder), RELEASE_S)
                                   for index in range(self.shards.count)), return_exceptions=True)

    async def _held(self, chat_id: int, method: str | None, *args: Any, result: bool = False) -> Any:
        """Change (or only read) the chat at its shard, keeping the copy it answers; the
        change's result with `result`, else the chat's messages."""
        self._watching()
        index = self.shards.index_of(chat_id)
        try:
            answer, epoch, version, messages = await self.shards.call(
                index, "held", self._holder, chat_id, method, *args)
        except BaseException:
            if method is not None:  # whether it was made is unknown: ask the shard next time
                self._void(chat_id)
            raise
        if epoch == self._epochs[index]:  # else the watcher has yet to see this epoch
            self._keep(chat_id, version, messages)
        return answer if result else messages

    def _keep(self, chat_id: int, version: int, messages: list[ManagedMessage]) -> None:
        known = self._copies.get(chat_id)
        if known is None:
            self._copies[chat_id] = Copy(version, messages)
            while len(self._copies) > REMEMBERED:
                self._copies.popitem(last=False)
        elif version >= known.version:  # an answer overtaken by a newer one is not kept
            known.version, known.messages = version, messages
            self._copies.move_to_end(chat_id)

    def _void(self, chat_id: int, version: int = 0) -> None:
        known = self._copies.get(chat_id)
        if known is None:
            self._copies[chat_id] = Copy(version, None)
        else:
            known.version, known.messages = max(known.version, version), None

    def _watching(self) -> None:
        if not self._watchers:
            self._watchers = [asyncio.ensure_future(self._watch(index)) for index in range(self.shards.count)]

    async def _watch(self, index: int) -> None:
        """Hear of the chats of shard `index` changed elsewhere, for as long as this runs."""
        acknowledged = 0
        while True:
            sent = self._clock()
            try:
                epoch, told, changed = await self.shards.call(
                    index, "watch", self._holder, self._epochs[index], acknowledged, self._watch_s)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the shard away: reads go to it (and wait for it) meanwhile
                self._trusted_until[index] = 0.0
                log.info("chats-%d not watched (%s); retrying", index, type(error).__name__)
                await asyncio.sleep(min(self._watch_s, 0.2))
                continue
            if epoch != self._epochs[index]:  # a shard started anew, or gave up on this cache
                self._epochs[index] = epoch
                for chat_id in [c for c in self._copies if self.shards.index_of(c) == index]:
                    del self._copies[chat_id]
            for chat_id, version in changed:
                self._void(chat_id, version)
            acknowledged = told
            self._trusted_until[index] = sent + self._lease
