"""What both kinds of shard do with their activated keys: forget the ones gone quiet."""

from __future__ import annotations

import asyncio
from typing import Protocol, TypeVar


class Activated(Protocol):
    used_at: float
    lock: asyncio.Lock


K = TypeVar("K")


def evict_quiet(entries: dict[K, Activated], cutoff: float) -> int:
    """Drop entries last used before `cutoff` and not busy right now; returns how many."""
    quiet = [key for key, entry in entries.items() if entry.used_at < cutoff and not entry.lock.locked()]
    for key in quiet:
        del entries[key]
    return len(quiet)
