"""A chat's updates handled one at a time, in the order they came.

Polling hands updates over as concurrent tasks, so a person typing fast had several answers
racing: each cleared the prompts before the others had sent theirs, and the prompts piled up.
In order, each answer clears the one before it. One lock per chat with updates in flight,
forgotten when none is left; each process (the `bot` actor, a webhook replica) keeps its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Chat, TelegramObject, User


@dataclass(slots=True)
class _Turn:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    waiting: int = 0


class ChatOrder(BaseMiddleware):
    """Outer update middleware, after the flood control (a flood never queues up here)."""

    def __init__(self) -> None:
        self._turns: dict[int, _Turn] = {}

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        chat: Chat | None = data.get("event_chat")
        user: User | None = data.get("event_from_user")
        key = chat.id if chat is not None else user.id if user is not None else None
        if key is None:
            return await handler(event, data)
        turn = self._turns.setdefault(key, _Turn())
        turn.waiting += 1
        try:
            async with turn.lock:  # asyncio's lock is fair: first come, first served
                return await handler(event, data)
        finally:
            turn.waiting -= 1
            if not turn.waiting:
                del self._turns[key]

    def active_chats(self) -> int:
        return len(self._turns)
