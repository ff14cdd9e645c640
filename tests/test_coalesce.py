"""Calls made while one is on its way go together in the next (`Coalescer`): each caller
gets its own answer, in order, and a failed call fails only its own callers."""

from __future__ import annotations

import asyncio

import pytest

from ppb.actors.coalesce import Coalescer


async def test_calls_made_meanwhile_go_together_and_each_gets_its_answer() -> None:
    sent: list[list[int]] = []
    gate = asyncio.Event()

    async def send(items: list[int]) -> list[int]:
        sent.append(items)
        await gate.wait()
        if -1 in items:
            raise ValueError("refused")
        return [item * 10 for item in items]

    calls = Coalescer(send, max_batch=4)
    first = asyncio.ensure_future(calls.submit(1))
    await asyncio.sleep(0)
    later = [asyncio.ensure_future(calls.submit(n)) for n in range(2, 8)]
    await asyncio.sleep(0)
    gate.set()
    assert await first == 10
    assert [await task for task in later] == [20, 30, 40, 50, 60, 70]
    assert sent == [[1], [2, 3, 4, 5], [6, 7]]  # one alone, then the ones that waited, 4 at most

    gate.clear()
    failing = asyncio.ensure_future(calls.submit(-1))
    await asyncio.sleep(0)
    after = asyncio.ensure_future(calls.submit(8))
    gate.set()
    with pytest.raises(ValueError, match="refused"):
        await failing
    assert await after == 80  # the next call goes on
