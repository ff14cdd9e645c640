"""Calls to one shard made while another is on its way go together in the next one: a
burst of people (forty `/start`s at once) costs a few actor calls and a few multi-row
writes instead of one each, and a lone call leaves at once, as before."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

Item = TypeVar("Item")
Answer = TypeVar("Answer")

MAX_BATCH = 256
"""Items in one call at most."""


class Coalescer(Generic[Item, Answer]):
    """`await submit(item)`: its answer from `send(items)`, which answers a list in order."""

    def __init__(self, send: Callable[[list[Item]], Awaitable[list[Answer]]], max_batch: int = MAX_BATCH) -> None:
        self._send = send
        self._max_batch = max_batch
        self._waiting: list[tuple[Item, asyncio.Future[Answer]]] = []
        self._drainer: asyncio.Task[None] | None = None
        """The task sending the waiting items (held: the loop keeps only a weak reference)."""

    async def submit(self, item: Item) -> Answer:
        answer: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, answer))
        if self._drainer is None:
            self._drainer = asyncio.ensure_future(self._drain())
        return await answer

    async def _drain(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[:self._max_batch], self._waiting[self._max_batch:]
                try:
                    answers = await self._send([item for item, _ in batch])
                except Exception as error:  # every caller of this call hears it
                    for _, answer in batch:
                        if not answer.done():
                            answer.set_exception(error)
                    continue
                for (_, answer), value in zip(batch, answers):
                    if not answer.done():
                        answer.set_result(value)
        finally:
            self._drainer = None
