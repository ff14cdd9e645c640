"""The bot's Bot API session: aiogram's aiohttp session, with each reply's model kept.

aiogram reads every reply as `Response[<the method's result type>]`, a generic pydantic model
made on first use; pydantic keeps those only weakly, so the garbage collector drops them and
the next reply builds the class again (about a millisecond of schema building, on one reply
in a few). Holding each one here keeps it built once per process.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


class BotSession(AiohttpSession):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("json_loads", orjson.loads)
        kwargs.setdefault("json_dumps", _dumps)
        super().__init__(**kwargs)
        self._replies: dict[Any, Any] = {}

    def check_response(self, bot: Bot, method: TelegramMethod[TelegramType], status_code: int,
                       content: str) -> Response[TelegramType]:
        returning = method.__returning__
        if returning not in self._replies:
            self._replies[returning] = Response[returning]  # type: ignore[valid-type]
        return super().check_response(bot, method, status_code, content)
