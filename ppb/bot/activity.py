"""Every update is activity: the person's `last_activity_at` moves (so the nudger knows who
is quiet) and a churned person is back to active, through the state machine.

Reported at most once per `every` seconds per person, so a busy chat costs one API call a
minute, not one per button; a person seen that recently cannot have been churned since.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, User

from ppb.bot.languages import Languages
from ppb.core.ppb import Ppb
from ppb.domain.errors import DomainError, NotFound, Unavailable
from ppb.domain.status import UserEvent

log = logging.getLogger("ppb.bot.activity")
REMEMBERED = 100_000


class ActivityMiddleware(BaseMiddleware):
    def __init__(self, api: Ppb, every: float, languages: Languages | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._api = api
        self._languages = languages
        self._every = every
        self._clock = clock
        self._reported: OrderedDict[int, float] = OrderedDict()

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        if user is not None and not user.is_bot:
            await self._report(user.id)
        return await handler(event, data)

    async def _report(self, telegram_id: int) -> None:
        now = self._clock()
        last = self._reported.get(telegram_id)
        if last is not None and now - last < self._every:
            return
        try:
            user = await self._api.event(telegram_id, UserEvent.ACTIVITY, {"via": "bot"})
        except DomainError as error:
            if not isinstance(error, NotFound):  # not registered yet (/start does that)
                log.warning("activity of %s not recorded: %s", telegram_id, error)
            return
        except Unavailable as error:  # the update goes on; its own calls will apologise
            log.warning("activity of %s not recorded: %s", telegram_id, error)
            return
        if self._languages is not None:  # the stored language, fresh, for the same call
            self._languages.learn(user)
        self._reported[telegram_id] = now
        self._reported.move_to_end(telegram_id)
        while len(self._reported) > REMEMBERED:
            self._reported.popitem(last=False)


def report_every(nudge_after: float, churn_after: float) -> float:
    """A minute, or less when the quiet and churn times are short (tests, demos)."""
    return min(60.0, nudge_after / 10, churn_after / 10)
