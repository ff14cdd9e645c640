"""The bot's activity report and a newcomer's sign-up: a person signed up by /start is not
reported again at their next update (the new row stamped their activity), and their
Telegram's language is stored with the sign-up; anyone else is reported as before."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from aiogram.types import User

from ppb.bot.activity import ActivityMiddleware
from ppb.bot.handlers.start import register
from ppb.bot.languages import Languages
from ppb.domain.errors import NotFound
from ppb.domain.status import UserEvent, UserStatus

EVERY = 60.0


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class People:
    """The part of `Ppb` the activity report and /start call, recording each call."""

    def __init__(self) -> None:
        self.users: dict[int, dict[str, Any]] = {}
        self.calls: list[tuple[Any, ...]] = []

    async def event(self, telegram_id: int, event: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
        self.calls.append(("event", telegram_id, event))
        if telegram_id not in self.users:
            raise NotFound(f"user {telegram_id} not found")
        if event == UserEvent.START:
            self.users[telegram_id]["status"] = UserStatus.ONBOARDING.value
        return dict(self.users[telegram_id])

    async def register_user(self, telegram_id: int, username: str | None, first_name: str | None,
                            last_name: str | None, language: str | None = None) -> dict[str, Any]:
        self.calls.append(("register", telegram_id, language))
        user = self.users.setdefault(telegram_id, {"telegram_id": telegram_id, "language": None,
                                                   "status": UserStatus.NEW.value})
        if language is not None:
            user["language"] = language
        return dict(user)

    async def get_user(self, telegram_id: int) -> dict[str, Any]:
        self.calls.append(("get", telegram_id))
        if telegram_id not in self.users:
            raise NotFound(f"user {telegram_id} not found")
        return dict(self.users[telegram_id])

    async def set_language(self, telegram_id: int, language: str) -> dict[str, Any]:
        self.calls.append(("set_language", telegram_id, language))
        self.users[telegram_id]["language"] = language
        return dict(self.users[telegram_id])


def made(api: People, kind: str) -> list[tuple[Any, ...]]:
    return [call for call in api.calls if call[0] == kind]


async def update(middleware: ActivityMiddleware, person: User, handler: Any = None) -> None:
    async def nothing(event: Any, data: dict[str, Any]) -> None:
        return None

    await middleware(handler or nothing, SimpleNamespace(), {"event_from_user": person})


def wiring() -> tuple[People, Languages, ActivityMiddleware, Clock]:
    clock = Clock()
    api = People()
    languages = Languages(api, fresh_s=EVERY, clock=clock)  # type: ignore[arg-type]
    return api, languages, ActivityMiddleware(api, EVERY, languages, clock=clock), clock  # type: ignore[arg-type]


async def test_a_newcomer_signed_up_by_start_is_not_reported_again_and_keeps_their_language() -> None:
    api, languages, middleware, clock = wiring()
    person = User(id=7, is_bot=False, first_name="Ann", language_code="de-AT")

    async def start(event: Any, data: dict[str, Any]) -> None:
        await register(api, languages, SimpleNamespace(from_user=person))  # type: ignore[arg-type]

    await update(middleware, person, start)
    assert made(api, "register") == [("register", 7, "de")]  # Telegram's language, with the sign-up
    assert api.users[7]["status"] == UserStatus.ONBOARDING.value
    reported = len(made(api, "event"))

    await update(middleware, person)  # "Start training" right after: the sign-up stamped activity
    assert len(made(api, "event")) == reported
    assert (await languages.of(person)) and not made(api, "set_language")  # stored already

    clock.now += EVERY  # a minute on, reported as anyone's
    await update(middleware, person)
    assert made(api, "event")[-1] == ("event", 7, UserEvent.ACTIVITY)


async def test_someone_registered_gets_no_language_from_start_and_is_reported_as_before() -> None:
    api, languages, middleware, _ = wiring()
    api.users[8] = {"telegram_id": 8, "language": "ru", "status": UserStatus.ACTIVE.value}
    person = User(id=8, is_bot=False, first_name="Оля", language_code="en")

    async def start(event: Any, data: dict[str, Any]) -> None:
        await register(api, languages, SimpleNamespace(from_user=person))  # type: ignore[arg-type]

    await update(middleware, person, start)
    assert made(api, "register") == [("register", 8, None)]  # the chosen language stays
    assert api.users[8]["language"] == "ru"
    assert made(api, "event") == [("event", 8, UserEvent.ACTIVITY)]


async def test_an_update_that_registers_nobody_leaves_the_stranger_reported_next_time() -> None:
    api, _, middleware, _ = wiring()
    person = User(id=9, is_bot=False, first_name="Bo", language_code="en")
    await update(middleware, person)  # a tap before /start: nobody registered
    await update(middleware, person)
    assert made(api, "event") == [("event", 9, UserEvent.ACTIVITY)] * 2
