"""RetryMiddleware never drops a message Telegram asked it to wait for."""

from __future__ import annotations

from typing import Any

from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import SendMessage

from ppb.bot.retry import RetryMiddleware


async def test_every_429_is_waited_out_however_many_come() -> None:
    method = SendMessage(chat_id=1, text="hello")
    refusals = 25  # more than any fixed number of tries would allow
    calls: list[int] = []

    async def make_request(bot: Any, sent: Any) -> str:
        calls.append(1)
        if len(calls) <= refusals:
            raise TelegramRetryAfter(method=sent, message="Too Many Requests: retry after 0", retry_after=0)
        return "sent"

    assert await RetryMiddleware(outage_s=0.0)(make_request, None, method) == "sent"  # type: ignore[arg-type]
    assert len(calls) == refusals + 1
