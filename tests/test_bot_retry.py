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


async def test_a_429_goes_to_a_caller_that_waits_it_out_itself() -> None:
    """The outbox's bot: the 429 comes back at once, so the whole queue pauses for it."""
    method = SendMessage(chat_id=1, text="hello")
    calls: list[int] = []

    async def make_request(bot: Any, sent: Any) -> str:
        calls.append(1)
        raise TelegramRetryAfter(method=sent, message="Too Many Requests: retry after 7", retry_after=7)

    middleware = RetryMiddleware(outage_s=0.0, wait_out_floods=False)
    try:
        await middleware(make_request, None, method)  # type: ignore[arg-type]
    except TelegramRetryAfter as error:
        assert error.retry_after == 7
    else:
        raise AssertionError("the 429 was swallowed")
    assert len(calls) == 1
