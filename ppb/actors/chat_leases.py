"""Who keeps a copy of which chat's registry (a bot's cache, `chat_cache.py`), and telling
them when someone else changes it: a chat shard acknowledges a write only once every other
holder of that chat has dropped its copy, or has stopped asking for news for `lease`
seconds (a holder trusts its copies only that long after its last question was sent).

A holder asks for news with `watch`, which waits up to a moment for some, and acknowledges
what it was told with its next `watch`. A holder the shard gives up on is forgotten, and
its next `watch` answers a new epoch: everything it kept from this shard is void. A shard
that starts anew knows no holders, so it holds every write back until `lease` has passed
since it started (a holder of its former self trusts nothing older than that).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

LEASE_S = 2.0
"""How long a holder's copies stay trusted after it last asked for news."""
WATCH_S = 0.5
"""How long a `watch` waits for news before answering none (well under `LEASE_S`)."""


@dataclass(slots=True)
class Holder:
    last_seen: float
    epoch: str = field(default_factory=lambda: uuid.uuid4().hex)
    told: int = 0
    """Changes queued for it so far."""
    acknowledged: int = 0
    pending: list[tuple[int, int, int]] = field(default_factory=list)
    """(number, chat id, version) of each change told and not yet acknowledged."""
    chats: set[int] = field(default_factory=set)
    news: asyncio.Event = field(default_factory=asyncio.Event)
    acks: asyncio.Event = field(default_factory=asyncio.Event)


class Leases:
    def __init__(self, lease: float = LEASE_S, clock: Callable[[], float] = time.monotonic,
                 grace: float = 0.0) -> None:
        self._lease = lease
        self._clock = clock
        self._open_at = clock() + grace
        self._holders: dict[str, Holder] = {}
        self._chats: dict[int, set[str]] = {}

    async def opened(self) -> None:
        """Wait out the grace after a start: holders of a former shard trust nothing by then."""
        remaining = self._open_at - self._clock()
        if remaining > 0:
            await asyncio.sleep(remaining)

    def hold(self, holder: str, chat_id: int) -> str:
        """`holder` keeps a copy of the chat as it is now; its epoch here."""
        known = self._holder(holder)
        known.chats.add(chat_id)
        self._chats.setdefault(chat_id, set()).add(holder)
        return known.epoch

    async def changed(self, chat_id: int, version: int, writer: str | None) -> None:
        """The chat is at `version` now: tell every holder but `writer`, and return once each
        has dropped its copy (or is given up)."""
        names = self._chats.pop(chat_id, None)
        if not names:
            return
        told: list[tuple[str, Holder, int]] = []
        for name in names:
            holder = self._holders.get(name)
            if name == writer:
                self._chats.setdefault(chat_id, set()).add(name)
                continue
            if holder is None:
                continue
            holder.chats.discard(chat_id)
            holder.told += 1
            holder.pending.append((holder.told, chat_id, version))
            holder.news.set()
            told.append((name, holder, holder.told))
        for name, holder, number in told:
            await self._acknowledged(name, holder, number)

    async def watch(self, holder: str, epoch: str | None, acknowledged: int,
                    wait: float) -> tuple[str, int, list[tuple[int, int]]]:
        """News for `holder`: (its epoch, the number to acknowledge next time, the (chat,
        version) changed since); waits up to `wait` s for some. `acknowledged` counts only
        when `epoch` is the current one."""
        known = self._holder(holder)
        known.last_seen = self._clock()
        if epoch == known.epoch and known.acknowledged < acknowledged <= known.told:
            known.acknowledged = acknowledged
            known.pending = [entry for entry in known.pending if entry[0] > acknowledged]
            acks, known.acks = known.acks, asyncio.Event()
            acks.set()
        if not known.pending and wait > 0:
            if known.news.is_set():
                known.news = asyncio.Event()
            try:
                await asyncio.wait_for(known.news.wait(), wait)
            except TimeoutError:
                pass
        return known.epoch, known.told, [(chat_id, version) for _, chat_id, version in known.pending]

    def release(self, holder: str) -> None:
        """`holder` keeps no copies any more (a bot stopping): nobody waits for it."""
        self._drop(holder)

    def holders_of(self, chat_id: int) -> set[str]:
        return set(self._chats.get(chat_id, ()))

    def _holder(self, name: str) -> Holder:
        known = self._holders.get(name)
        if known is None:
            known = self._holders[name] = Holder(self._clock())
        return known

    async def _acknowledged(self, name: str, holder: Holder, number: int) -> None:
        while holder.acknowledged < number and self._holders.get(name) is holder:
            remaining = holder.last_seen + self._lease - self._clock()
            if remaining <= 0:
                self._drop(name)  # its copies are void by now; it learns so from a new epoch
                return
            try:
                await asyncio.wait_for(holder.acks.wait(), remaining)
            except TimeoutError:
                pass

    def _drop(self, name: str) -> None:
        holder = self._holders.pop(name, None)
        if holder is None:
            return
        holder.acks.set()  # whoever waits for it goes on
        for chat_id in holder.chats:
            names = self._chats.get(chat_id)
            if names is not None:
                names.discard(name)
                if not names:
                    del self._chats[chat_id]
