"""The garbage collector in PPB's long-running processes.

A Ray worker holds a few hundred thousand objects once it has imported aiogram, pydantic,
SQLAlchemy and Ray and built its app, nearly all of them for good. CPython's full
collection walks every one of them (0.1 to 0.3 s each in the bot actor, the whole event
loop stopped), and under load it ran every second or two: each in-flight update waited for
it. `settle()` collects once and moves what is alive then out of the collector's reach
(`gc.freeze`): later full collections walk only what was made since.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 20_000
"""Allocations (less deallocations) between two young collections (CPython's default 700):
an update's objects mostly die before the next one, instead of being walked, survived into
the older generations and walked again there."""


def settle() -> None:
    """Collect the garbage of a start-up, then freeze what is left (call once the process
    has built what it keeps; calling it again freezes what was added since)."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
