"""A Bot API session middleware that waits out 429s and rides out short outages."""

from __future__ import annotations

import asyncio
import logging

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.methods import GetUpdates, Response, TelegramMethod
from aiogram.methods.base import TelegramType

log = logging.getLogger("ppb.bot.retry")


class RetryMiddleware(BaseRequestMiddleware):
    """A 429's `retry_after` is always waited out, however often it comes: Telegram asks for
    patience, and giving up would drop a message the person is owed. With `wait_out_floods`
    off, the 429 goes to the caller instead, who must wait it out itself (the outbox pauses
    its whole queue). 5xx and network errors are retried with backoff until `outage_s` has
    passed. Long polling is left to the dispatcher, which backs off itself."""

    def __init__(self, outage_s: float = 60.0, *, wait_out_floods: bool = True) -> None:
        self.outage_s = outage_s
        self.wait_out_floods = wait_out_floods

    async def __call__(
        self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot, method: TelegramMethod[TelegramType]
    ) -> Response[TelegramType]:
        if isinstance(method, GetUpdates):
            return await make_request(bot, method)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.outage_s
        delay = 0.1
        while True:
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as error:
                if not self.wait_out_floods:
                    raise
                log.info("%s: flood control, waiting %s s", type(method).__name__, error.retry_after)
                await asyncio.sleep(error.retry_after)
            except (TelegramServerError, TelegramNetworkError) as error:
                if loop.time() + delay > deadline:
                    raise
                log.info("%s: %s, retrying in %.1f s", type(method).__name__, type(error).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 3.0)
