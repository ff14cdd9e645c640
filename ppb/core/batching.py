"""Natural batching: one batch runs at a time, and the calls that arrive meanwhile go
together as the next one. An idle process answers a lone call at once (no batch window to
wait out); a busy one gets batches as large as its load.

Serve's `@serve.batch` forms the next batch during the current one, from what arrives within
its window, and queues it: with a window short enough for a lone call, batches under load
stay small (mostly one), and ranking one user at a time costs about twice as much per user
as ranking sixteen together (docs/performance.md).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

Request = TypeVar("Request")
Result = TypeVar("Result")


class NaturalBatches(Generic[Request, Result]):
    """`await submit(request)` runs it within `run_many(requests)`, with whatever else is
    waiting, at most `max_batch` at a time.

    `run_many` returns one result per request, in order; a result that is an exception is
    raised to that caller alone. If `run_many` itself raises, every caller of that batch
    gets the error.
    """

    def __init__(
        self, run_many: Callable[[list[Request]], Awaitable[list[Result | BaseException]]], max_batch: int
    ) -> None:
        self._run_many = run_many
        self._max_batch = max_batch
        self._waiting: list[tuple[Request, asyncio.Future[Result]]] = []
        self._runner: asyncio.Task[None] | None = None

    async def submit(self, request: Request) -> Result:
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.append((request, future))
        if self._runner is None or self._runner.done():
            self._runner = asyncio.ensure_future(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._waiting:
            batch = [item for item in self._waiting[: self._max_batch] if not item[1].done()]
            del self._waiting[: self._max_batch]
            if not batch:
                continue
            try:
                results = list(await self._run_many([request for request, _ in batch]))
            except asyncio.CancelledError:  # shutting down: nobody is left waiting forever
                for _, future in batch + self._waiting:
                    future.cancel()
                raise
            except Exception as error:  # the whole batch failed: each caller hears why
                results = [error] * len(batch)
            for (_, future), result in zip(batch, results, strict=True):
                if future.done():  # the caller was cancelled meanwhile
                    continue
                if isinstance(result, BaseException):
                    future.set_exception(result)
                else:
                    future.set_result(result)
