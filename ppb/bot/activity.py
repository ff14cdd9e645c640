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
        if user is None or user.is_bot:
            return await handler(event, data)
        stranger = await self._report(user.id)
        result = await handler(event, data)
        if stranger and self._languages is not None and self._languages.registered(user.id):
            # signed up by this update (/start): the new row, and its `start`, stamped
            # `last_activity_at` already, so the next update need not report it again
            self._remember(user.id, self._clock())
        return result

    async def _report(self, telegram_id: int) -> bool:
        """Report the person's activity unless done lately; whether they are not registered."""
        now = self._clock()
        last = self._reported.get(telegram_id)
        if last is not None and now - last < self._every:
            return False
        try:
            user = await self._api.event(telegram_id, UserEvent.ACTIVITY, {"via": "bot"})
        except NotFound:  # not registered yet (/start does that)
            if self._languages is not None:
                self._languages.unregistered(telegram_id)
            return True
        except DomainError as error:
            log.warning("activity of %s not recorded: %s", telegram_id, error)
            return False
        except Unavailable as error:  # the update goes on; its own calls will apologise
            log.warning("activity of %s not recorded: %s", telegram_id, error)
            return False
        if self._languages is not None:  # the stored language, fresh, for the same call
            self._languages.learn(user)
        self._remember(telegram_id, now)
        return False

    def _remember(self, telegram_id: int, now: float) -> None:
        self._reported[telegram_id] = now
        self._reported.move_to_end(telegram_id)
        while len(self._reported) > REMEMBERED:
            self._reported.popitem(last=False)
