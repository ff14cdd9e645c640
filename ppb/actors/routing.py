"""Which shard owns a key: crc32, stable across processes (Python's `hash` is salted)."""

from __future__ import annotations

import zlib


def shard_of(key: int | str, shards: int) -> int:
    return zlib.crc32(str(key).encode()) % shards


def shard_name(kind: str, index: int) -> str:
    """`users-3`, `chats-0`: the names DESIGN section 2 gives the shard actors."""
    return f"{kind}-{index}"
