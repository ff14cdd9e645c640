"""What the person typed is answered at the bottom of the chat, where they look.

A message update's handlers get `messages` as `MessageManager.answering_typed()`: the system
message they show is sent anew below what is there (the old one deleted), never edited far
above the newest messages, where a phone shows nothing happening. Button presses keep the
dispatcher's manager, which edits in place.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject

from ppb.bot.messages import MessageManager


class TypedAnswers(BaseMiddleware):
    """Outer middleware of the `message` observer."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        messages = data.get("messages")
        if isinstance(messages, MessageManager):
            data["messages"] = messages.answering_typed()
        return await handler(event, data)
