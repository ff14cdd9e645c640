"""The language each person reads, from the one place it is stored: `users.language`.

`Languages` remembers what this process last read or wrote there for a person, for at most
`fresh_s` seconds, so a chat costs no extra call per update: it learns from every user the
bot gets back (registration, the activity report, a switch) and asks the store only when
what it knows is older than that. The rule that turns a stored code into the language PPB
speaks is `ppb.domain.languages.ui_language`, the same for every path.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiogram.types import User

from ppb.core.ppb import Ppb
from ppb.domain.errors import DomainError, NotFound
from ppb.domain.languages import Language, language_code, ui_language

log = logging.getLogger("ppb.bot.languages")
REMEMBERED = 100_000


@dataclass(frozen=True, slots=True)
class Known:
    registered: bool
    stored: str | None  # users.language
    at: float


class Languages:
    def __init__(self, api: Ppb, fresh_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._api = api
        self._fresh_s = fresh_s
        self._clock = clock
        self._known: OrderedDict[int, Known] = OrderedDict()

    def learn(self, user: dict[str, Any]) -> None:
        """A user as the store answered it (any reply with `telegram_id` and `language`)."""
        self._put(int(user["telegram_id"]), Known(True, user.get("language"), self._clock()))

    def forget(self, telegram_id: int) -> None:
        self._known.pop(telegram_id, None)

    def unregistered(self, telegram_id: int) -> None:
        """The store just answered that the person is not registered."""
        self._put(telegram_id, Known(False, None, self._clock()))

    def stranger(self, telegram_id: int) -> bool:
        """Whether the store said lately that the person is not registered."""
        known = self._known.get(telegram_id)
        return known is not None and not known.registered and self._clock() - known.at < self._fresh_s

    def registered(self, telegram_id: int) -> bool:
        """Whether the person is known here as registered (the store said so lately)."""
        known = self._known.get(telegram_id)
        return known is not None and known.registered

    def known(self, person: User) -> Language:
        """The person's language from what is known here, without asking the store (the flood
        notice, which must cost nothing)."""
        known = self._known.get(person.id)
        return ui_language(known.stored if known else None, person.language_code)

    async def of(self, person: User) -> Language:
        """The person's language: the stored one, else their Telegram's. A registered person
        with none stored gets their Telegram's stored, so pushes, nudges and digests, which
        have no Telegram user to ask, speak the same language as the chat."""
        known = self._known.get(person.id)
        if known is None or self._clock() - known.at >= self._fresh_s:
            known = await self._read(person.id, known)
        if known.registered and known.stored is None and language_code(person.language_code):
            known = await self._store_telegram_language(person, known)
        return ui_language(known.stored, person.language_code)

    async def _read(self, telegram_id: int, stale: Known | None) -> Known:
        try:
            user = await self._api.get_user(telegram_id)
        except NotFound:
            return self._put(telegram_id, Known(False, None, self._clock()))
        except DomainError as error:  # the store away: what was known, else Telegram's language
            log.warning("language of %s not read: %s", telegram_id, error)
            return stale or Known(False, None, self._clock())
        return self._put(telegram_id, Known(True, user.get("language"), self._clock()))

    async def _store_telegram_language(self, person: User, known: Known) -> Known:
        code = language_code(person.language_code)
        try:
            user = await self._api.set_language(person.id, code or "")
        except DomainError as error:  # a code the profile refuses, or the store away: tried
            log.info("language of %s not stored: %s", person.id, error)  # again once stale
            return self._put(person.id, Known(True, code, self._clock()))
        return self._put(person.id, Known(True, user.get("language"), self._clock()))

    def _put(self, telegram_id: int, known: Known) -> Known:
        self._known[telegram_id] = known
        self._known.move_to_end(telegram_id)
        while len(self._known) > REMEMBERED:
            self._known.popitem(last=False)
        return known
