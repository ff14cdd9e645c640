"""Where a chat shard keeps each chat's registry: Redis when configured, else memory."""

from __future__ import annotations

from typing import Any, Protocol

import orjson

CHAT_TTL_S = 90 * 24 * 3600
"""A chat nobody touched for this long is forgotten (Telegram deletes only 48-hour-old messages)."""


class ChatState(Protocol):
    async def load(self, chat_id: int) -> dict[str, Any] | None: ...

    async def save(self, chat_id: int, snapshot: dict[str, Any]) -> None: ...

    async def delete(self, chat_id: int) -> None: ...

    async def close(self) -> None: ...

    @property
    def durable(self) -> bool: ...


class MemoryChatState:
    """The embedded default: registries live as long as the shard's process."""

    durable = False

    def __init__(self) -> None:
        self._chats: dict[int, bytes] = {}

    async def load(self, chat_id: int) -> dict[str, Any] | None:
        raw = self._chats.get(chat_id)
        return orjson.loads(raw) if raw is not None else None

    async def save(self, chat_id: int, snapshot: dict[str, Any]) -> None:
        self._chats[chat_id] = orjson.dumps(snapshot)

    async def delete(self, chat_id: int) -> None:
        self._chats.pop(chat_id, None)

    async def close(self) -> None:
        return None


class RedisChatState:
    """One key per chat holding its whole (bounded) registry, written on every change."""

    durable = True

    def __init__(self, url: str, prefix: str = "ppb") -> None:
        import redis.asyncio as redis

        self._redis = redis.Redis.from_url(url)
        self._prefix = prefix

    def _key(self, chat_id: int) -> str:
        return f"{self._prefix}:chat:{chat_id}"

    async def load(self, chat_id: int) -> dict[str, Any] | None:
        raw = await self._redis.get(self._key(chat_id))
        return orjson.loads(raw) if raw is not None else None

    async def save(self, chat_id: int, snapshot: dict[str, Any]) -> None:
        await self._redis.set(self._key(chat_id), orjson.dumps(snapshot), ex=CHAT_TTL_S)

    async def delete(self, chat_id: int) -> None:
        await self._redis.delete(self._key(chat_id))

    async def close(self) -> None:
        await self._redis.aclose()
