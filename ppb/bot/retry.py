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
    """`retry_after` is waited out; 5xx and network errors are retried with backoff until
    `outage_s` has passed. Long polling is left to the dispatcher, which backs off itself."""

    def __init__(self, outage_s: float = 60.0, max_flood_waits: int = 10) -> None:
        self.outage_s = outage_s
        self.max_flood_waits = max_flood_waits

    async def __call__(
        self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot, method: TelegramMethod[TelegramType]
    ) -> Response[TelegramType]:
        if isinstance(method, GetUpdates):
            return await make_request(bot, method)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.outage_s
        delay, flood_waits = 0.1, 0
        while True:
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as error:
                flood_waits += 1
                if flood_waits > self.max_flood_waits:
                    raise
                log.info("%s: flood control, waiting %s s", type(method).__name__, error.retry_after)
                await asyncio.sleep(error.retry_after)
            except (TelegramServerError, TelegramNetworkError) as error:
                if loop.time() + delay > deadline:
                    raise
                log.info("%s: %s, retrying in %.1f s", type(method).__name__, type(error).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 3.0)
