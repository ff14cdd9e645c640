"""Per-person flood control: a token bucket per user (a burst, then a steady rate); over it,
the person is ignored for a short cool-down and told so once, politely.

It runs before every other middleware, so a flood costs neither API calls nor scraper
requests. Nothing of it stays behind: the notice goes when the cool-down ends, and so does
what the person typed meanwhile (one deleteMessages call). Each process (the `bot` actor, or each Api replica in webhook mode) keeps its own
buckets: a limit per process, which is what protects that process.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.types import TelegramObject, Update, User
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from ppb.bot.languages import Languages
from ppb.bot.messages import MessageManager

log = logging.getLogger("ppb.bot.throttle")
REMEMBERED = 100_000
IGNORED_KEPT = 100
"""Messages of one cool-down removed at its end (one deleteMessages call takes 100)."""


@dataclass
class Bucket:
    tokens: float
    updated: float
    quiet_until: float = 0.0
    ignored: list[int] = field(default_factory=list)
    """What the person typed in this cool-down, to remove when it ends."""


class Throttle:
    """The bookkeeping, without aiogram: `admit(user, now)` says pass, refuse-and-tell, or drop."""

    PASS, TELL, DROP = "pass", "tell", "drop"

    def __init__(self, rate: float, burst: int, cooldown: float) -> None:
        self.rate = rate
        self.burst = burst
        self.cooldown = cooldown
        self._buckets: OrderedDict[int, Bucket] = OrderedDict()

    def admit(self, user_id: int, now: float) -> str:
        bucket = self._buckets.get(user_id)
        if bucket is None:
            bucket = self._buckets[user_id] = Bucket(float(self.burst), now)
            while len(self._buckets) > REMEMBERED:
                self._buckets.popitem(last=False)
        self._buckets.move_to_end(user_id)
        if now < bucket.quiet_until:
            return self.DROP
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return self.PASS
        bucket.quiet_until = now + self.cooldown
        bucket.tokens = float(self.burst)  # after the cool-down, a fresh start
        bucket.updated = bucket.quiet_until
        bucket.ignored = []
        return self.TELL

    def ignored(self, user_id: int) -> list[int]:
        """The ids of the messages ignored in the person's current (or last) cool-down."""
        bucket = self._buckets.get(user_id)
        return bucket.ignored if bucket is not None else []


class ThrottleMiddleware(BaseMiddleware):
    """Outer update middleware: too many updates from one person and the rest are dropped."""

    def __init__(self, throttle: Throttle, i18n: I18n, languages: Languages,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._throttle = throttle
        self._i18n = i18n
        self._languages = languages
        self._clock = clock

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None or user.is_bot:
            return await handler(event, data)
        verdict = self._throttle.admit(user.id, self._clock())
        if verdict == Throttle.PASS:
            return await handler(event, data)
        messages = data.get("messages")
        ignored = self._throttle.ignored(user.id)
        message = event.message if isinstance(event, Update) else None
        if message is not None and len(ignored) < IGNORED_KEPT:
            ignored.append(message.message_id)
        if verdict == Throttle.TELL:
            log.info("throttling user %s for %.0f s", user.id, self._throttle.cooldown)
            notice = await self._tell(data.get("bot"), user)
            if notice is not None:
                ignored.append(notice)
            if isinstance(messages, MessageManager):  # the notice and the ignored messages go together
                messages.delete_later(user.id, ignored, self._throttle.cooldown)
        return None

    async def _tell(self, bot: Bot | None, user: User) -> int | None:
        """The notice's message id. Not a prompt the person's next step clears: the answers to
        the messages that passed before the flood still come, and must not take it away."""
        if bot is None:
            return None
        with self._i18n.context(), self._i18n.use_locale(self._languages.known(user)):
            text = _("You're sending messages too fast. I'll answer again in {seconds} seconds.").format(
                seconds=max(1, round(self._throttle.cooldown))
            )
        try:
            return (await bot.send_message(user.id, text)).message_id
        except Exception as error:  # telling is a courtesy; never fail the update over it
            log.info("could not tell user %s to slow down: %s", user.id, type(error).__name__)
            return None
