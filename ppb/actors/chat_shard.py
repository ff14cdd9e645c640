"""A shard of per-chat message registries (DESIGN section 6): plain Python, wrapped as a
Ray actor in `remote.py`.

Each chat's registry keeps its messages in the order they were sent, bounded in size,
and is written to its `ChatState` before any change is acknowledged, so a shard that
restarts reloads it from there. A process may keep a copy of a chat's registry (the bot's
cache, `chat_cache.py`) through `held` and `watch`: a change by anyone else is acknowledged
only once that copy is dropped (`chat_leases.py`).
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ppb import metrics
from ppb.actors.activation import evict_quiet
from ppb.actors.chat_leases import LEASE_S, Leases
from ppb.actors.chat_state import ChatState
from ppb.domain.messages import ManagedMessage, MessageType

DEFAULT_LIMIT = 200
HELD = frozenset({"register", "remove", "clear_type", "forget"})
"""The changes a holder may make through `held`, keeping its copy."""
_writer: contextvars.ContextVar[str | None] = contextvars.ContextVar("chat_writer", default=None)
"""The holder making the change under way (its own copy is not dropped but renewed)."""


@dataclass(slots=True)
class ChatRegistry:
    messages: list[ManagedMessage] = field(default_factory=list)
    clears: dict[str, list] = field(default_factory=dict)
    """Per message type, the last clear's request id and the ids it returned (for retries)."""
    used_at: float = 0.0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    version: int = 0
    """The shard's count of changes when this chat last changed (or was loaded)."""


class ChatShard:
    def __init__(
        self,
        state: ChatState,
        limit: int = DEFAULT_LIMIT,
        idle_after: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
        lease: float = LEASE_S,
        grace: float = 0.0,
    ) -> None:
        """`grace`: hold writes back for that long after starting (`lease` under Ray, where a
        restarted shard may have had holders)."""
        self._state = state
        self._limit = limit
        self._idle_after = idle_after
        self._clock = clock
        self._chats: dict[int, ChatRegistry] = {}
        self._version = 0
        self._leases = Leases(lease, clock, grace)

    async def held(self, holder: str, chat_id: int, method: str | None = None,
                   *args: Any) -> tuple[Any, str, int, list[ManagedMessage]]:
        """For a process keeping a copy of the chat's registry: make a change (`method`, one
        of `HELD`, with `args`; none: only read) and answer (its result, the holder's epoch,
        the chat's version, its messages): the copy, told of others' changes from then on."""
        result = None
        if method is not None:
            if method not in HELD:
                raise ValueError(f"{method} is not a change a holder makes through held()")
            token = _writer.set(holder)
            try:
                result = await getattr(self, method)(*args)
            finally:
                _writer.reset(token)
        chat = await self._chat(chat_id)
        epoch = self._leases.hold(holder, chat_id)  # no await since the chat was read: one moment
        return result, epoch, chat.version, list(chat.messages)

    async def release(self, holder: str) -> None:
        """`holder` drops every copy (a bot stopping): no change waits for it."""
        self._leases.release(holder)

    async def watch(self, holder: str, epoch: str | None, acknowledged: int,
                    wait: float) -> tuple[str, int, list[tuple[int, int]]]:
        """The chats changed by others since `holder` last acknowledged (`Leases.watch`)."""
        return await self._leases.watch(holder, epoch, acknowledged, wait)

    async def register(self, message: ManagedMessage) -> None:
        """Track a sent message; registering the same message again changes nothing."""
        chat = await self._chat(message.chat_id)
        async with chat.lock:
            if any(known.message_id == message.message_id for known in chat.messages):
                return
            await self._commit(message.chat_id, chat, self._bounded([*chat.messages, message]))

    async def register_many(self, messages: list[ManagedMessage]) -> list[bool]:
        """Track several sent messages (an album, a feed page) with one write per chat;
        True for each message that was not tracked yet."""
        by_chat: dict[int, list[int]] = {}
        for position, message in enumerate(messages):
            by_chat.setdefault(message.chat_id, []).append(position)
        added = [False] * len(messages)
        for chat_id, positions in by_chat.items():
            chat = await self._chat(chat_id)
            async with chat.lock:
                known = {m.message_id for m in chat.messages}
                new: list[ManagedMessage] = []
                for position in positions:
                    if messages[position].message_id not in known:
                        known.add(messages[position].message_id)
                        new.append(messages[position])
                        added[position] = True
                if new:
                    await self._commit(chat_id, chat, self._bounded([*chat.messages, *new]))
        return added

    async def get_messages(
        self, chat_id: int, type: MessageType | None = None, tag: str | None = None
    ) -> list[ManagedMessage]:
        """The chat's messages of that type (and tag), oldest first."""
        chat = await self._chat(chat_id)
        return [message for message in chat.messages if message.matches(type, tag)]

    async def get_latest(
        self, chat_id: int, type: MessageType | None = None, tag: str | None = None
    ) -> ManagedMessage | None:
        found = await self.get_messages(chat_id, type, tag)
        return found[-1] if found else None

    async def remove(self, chat_id: int, message_id: int) -> bool:
        """Forget a message; False when it was not tracked (so retrying is harmless)."""
        chat = await self._chat(chat_id)
        async with chat.lock:
            kept = [message for message in chat.messages if message.message_id != message_id]
            if len(kept) == len(chat.messages):
                return False
            await self._commit(chat_id, chat, kept)
            return True

    async def clear_type(
        self, chat_id: int, type: MessageType, request_id: str | None = None
    ) -> list[int]:
        """Forget every message of a type; returns their ids, oldest first.

        A retry with the same `request_id` returns the same ids instead of none.
        """
        chat = await self._chat(chat_id)
        type = MessageType(type)
        async with chat.lock:
            last = chat.clears.get(type.value)
            if request_id is not None and last is not None and last[0] == request_id:
                return list(last[1])
            cleared = [m.message_id for m in chat.messages if m.type == type]
            clears = chat.clears if request_id is None else {**chat.clears, type.value: [request_id, cleared]}
            if cleared or request_id is not None:
                await self._commit(chat_id, chat, [m for m in chat.messages if m.type != type], clears)
            return cleared

    async def forget(self, chat_id: int) -> None:
        """Erase the chat's registry, here and where it is kept (the person asked to be deleted)."""
        chat = await self._chat(chat_id)
        async with chat.lock:
            await self._leases.opened()
            self._chats.pop(chat_id, None)
            await self._state.delete(chat_id)
            self._version += 1
            await self._leases.changed(chat_id, self._version, _writer.get())

    def evict_idle(self) -> int:
        """Forget chats quiet for a while, when their state is kept elsewhere."""
        if not self._state.durable:
            return 0
        return evict_quiet(self._chats, self._clock() - self._idle_after)

    def active_count(self) -> int:
        return len(self._chats)

    async def _chat(self, chat_id: int) -> ChatRegistry:
        chat = self._chats.get(chat_id)
        if chat is None:
            stored = await self._state.load(chat_id)
            loaded = ChatRegistry()
            if stored is not None:
                loaded.messages = [ManagedMessage.from_json(m) for m in stored["messages"]]
                loaded.clears = dict(stored.get("clears", {}))
            loaded.version = self._version  # no older than any copy of it this shard gave
            chat = self._chats.setdefault(chat_id, loaded)
            metrics.record("ppb_shard_activations_total", kind="chats")
        chat.used_at = self._clock()
        return chat

    def _bounded(self, messages: list[ManagedMessage]) -> list[ManagedMessage]:
        """Drop the oldest permanent posts first: the bot never deletes those anyway."""
        while len(messages) > self._limit:
            victim = next((i for i, m in enumerate(messages) if m.type == MessageType.ONETIME), 0)
            del messages[victim]
        return messages

    async def _commit(
        self,
        chat_id: int,
        chat: ChatRegistry,
        messages: list[ManagedMessage],
        clears: dict[str, list] | None = None,
    ) -> None:
        """Store the chat's new registry, then adopt it: a failed write changes nothing.
        Acknowledged once every other holder of a copy has dropped it."""
        await self._leases.opened()
        clears = chat.clears if clears is None else clears
        await self._state.save(
            chat_id, {"messages": [m.to_json() for m in messages], "clears": clears}
        )
        chat.messages, chat.clears = messages, clears
        self._version += 1
        chat.version = self._version
        await self._leases.changed(chat_id, chat.version, _writer.get())
