"""Outer update middleware: each update counted by type, and the time to handle it."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update

from ppb import metrics


class UpdateMetrics(BaseMiddleware):
    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        kind = event.event_type if isinstance(event, Update) else type(event).__name__
        started = time.perf_counter()
        try:
            return await handler(event, data)
        finally:
            metrics.record("ppb_bot_updates_total", type=kind)
            metrics.record("ppb_bot_update_seconds", time.perf_counter() - started, type=kind)
