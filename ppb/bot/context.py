"""A context held around each update: with the core in process, the store's connection
for the update's queries (one connection per update, as the API holds one per request)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject


class UpdateContext(BaseMiddleware):
    def __init__(self, context: Callable[[], AbstractAsyncContextManager[Any]]) -> None:
        self._context = context

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        async with self._context():
            return await handler(event, data)
