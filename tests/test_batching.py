"""Natural batching (ppb/core/batching.py): a lone call runs at once, calls that arrive while
a batch runs go together as the next one, and each caller gets its own result or error."""

from __future__ import annotations

import asyncio

import pytest

from ppb.core.batching import NaturalBatches


class Recorder:
    """`run_many` that records each batch and holds it until released."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.release = asyncio.Event()

    async def run_many(self, requests: list[int]) -> list[int | BaseException]:
        self.batches.append(list(requests))
        await self.release.wait()
        return [ValueError(f"request {n}: odd") if n % 2 else n * 10 for n in requests]


async def _until(condition, deadline_s: float = 5.0) -> None:
    async with asyncio.timeout(deadline_s):
        while not condition():
            await asyncio.sleep(0)


async def test_calls_during_a_batch_form_the_next_one_and_each_gets_its_own_result() -> None:
    recorder = Recorder()
    batches = NaturalBatches(recorder.run_many, max_batch=3)
    first = asyncio.ensure_future(batches.submit(0))
    await _until(lambda: recorder.batches == [[0]])  # alone: runs at once, no window to wait out
    later = [asyncio.ensure_future(batches.submit(n)) for n in (2, 4, 6, 8)]
    recorder.release.set()
    assert await first == 0
    assert await asyncio.gather(*later) == [20, 40, 60, 80]
    assert recorder.batches == [[0], [2, 4, 6], [8]]  # at most max_batch together


async def test_one_callers_error_is_raised_to_that_caller_alone() -> None:
    recorder = Recorder()
    recorder.release.set()
    batches = NaturalBatches(recorder.run_many, max_batch=8)
    results = await asyncio.gather(*(batches.submit(n) for n in range(4)), return_exceptions=True)
    assert results[0] == 0 and results[2] == 20
    assert isinstance(results[1], ValueError) and "request 1" in str(results[1])
    assert isinstance(results[3], ValueError)


async def test_a_failed_batch_fails_its_callers_and_the_next_batch_still_runs() -> None:
    calls: list[list[int]] = []

    async def flaky(requests: list[int]) -> list[int]:
        calls.append(requests)
        if len(calls) == 1:
            raise ConnectionError("database: connection refused")
        return requests

    batches = NaturalBatches(flaky, max_batch=8)
    with pytest.raises(ConnectionError, match="database"):
        await batches.submit(1)
    assert await batches.submit(2) == 2


async def test_a_cancelled_caller_does_not_hold_up_the_others() -> None:
    recorder = Recorder()
    batches = NaturalBatches(recorder.run_many, max_batch=8)
    running = asyncio.ensure_future(batches.submit(0))
    await _until(lambda: len(recorder.batches) == 1)
    gone = asyncio.ensure_future(batches.submit(2))
    kept = asyncio.ensure_future(batches.submit(4))
    await asyncio.sleep(0)
    gone.cancel()
    recorder.release.set()
    assert await running == 0 and await kept == 40
    assert recorder.batches == [[0], [4]]  # the cancelled request was not ranked
