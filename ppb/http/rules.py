"""A person's delivery rules: `GET` and `PATCH /users/{telegram_id}/rules`."""

from __future__ import annotations

import re
from typing import Annotated, Any
from zoneinfo import available_timezones

from pydantic import AfterValidator, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ppb.core import rules as core_rules
from ppb.domain.errors import Invalid
from ppb.domain.rules import (
    MAX_MUTE_WORDS,
    WORD_CHARACTER,
    DeliveryMode,
    DigestMode,
    Rules,
    check_mute_words,
    check_timezone,
)
from ppb.http.body import parse_body, path_int, reply
from ppb.http.schemas import Body, Out, Stated, Text, not_null
from ppb.http.services import Services

HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
_HHMM = re.compile(HHMM)
TIME_ZONES = sorted(available_timezones())


def _clock(value: str) -> str:
    if not _HHMM.match(value):
        raise ValueError("must be a time of day as HH:MM (00:00 to 23:59)")
    return value


def _listed_zone(value: str) -> str:
    """One of the names the schema lists (ZoneInfo also opens a few it does not, posix/UTC say)."""
    if value not in TIME_ZONES:
        raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Europe/Moscow)")
    return value


Clock = Annotated[str, Field(max_length=5), AfterValidator(_clock), Stated({"pattern": HHMM})]
TimeZone = Annotated[str, Field(max_length=64), AfterValidator(check_timezone), AfterValidator(_listed_zone),
                     Stated({"enum": TIME_ZONES})]


def _word(value: str) -> str:
    return check_mute_words([value])[0]


MUTE_WORD = "^[^\\x00]*" + WORD_CHARACTER.pattern + "[^\\x00]*$"
"""A word or phrase with a letter, digit or emoji in it (`check_mute_words`), no NUL."""
MuteWords = Annotated[
    list[Annotated[Text, Field(max_length=64), AfterValidator(_word), Stated({"pattern": MUTE_WORD})]],
    Field(max_length=MAX_MUTE_WORDS),
    AfterValidator(lambda words: list(check_mute_words(words))),
]
NOT_NULL = Field(json_schema_extra=not_null)
"""A field that may be left out, but not sent as null."""


class RulesIn(Body):
    """Only the fields sent change; `quiet_start` and `quiet_end` null (both) mean no quiet
    hours: one of them null alone is refused."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"delivery": "both", "digest": "daily", "digest_time": "09:00", "timezone": "Europe/Moscow", "quiet_start": "23:00", "quiet_end": "08:00", "mute_words": ["crypto"], "hide_ads": True}]})

    delivery: Annotated[DeliveryMode | None, NOT_NULL] = None
    digest: Annotated[DigestMode | None, NOT_NULL] = None
    digest_time: Annotated[Clock | None, NOT_NULL] = None
    timezone: Annotated[TimeZone | None, NOT_NULL] = None
    quiet_start: Clock | None = None
    quiet_end: Clock | None = None
    mute_words: MuteWords | None = None
    hide_ads: Annotated[bool | None, NOT_NULL] = None


class RulesOut(Out):
    delivery: DeliveryMode
    digest: DigestMode
    digest_time: str
    timezone: str
    quiet_start: str | None
    quiet_end: str | None
    mute_words: list[str]
    hide_ads: bool


def rules_out(rules: Rules) -> RulesOut:
    return RulesOut.model_validate(core_rules.to_row(rules))


def changes_of(body: RulesIn) -> dict[str, Any]:
    """The fields sent, as `Rules` values; 422 when only one end of the quiet hours is cleared."""
    sent = body.model_dump(exclude_unset=True)
    quiet = {key for key in ("quiet_start", "quiet_end") if key in sent}
    cleared = {key for key in quiet if sent[key] is None}
    if cleared and cleared != {"quiet_start", "quiet_end"}:
        name = next(iter(cleared))
        raise Invalid(f"{name}: null only together with the other end (both null: no quiet hours)")
    for key in ("delivery", "digest", "timezone", "hide_ads"):
        if key in sent and sent[key] is None:
            raise Invalid(f"{key}: must not be null")
    if "digest_time" in sent and sent["digest_time"] is None:
        raise Invalid("digest_time: must not be null")
    changes: dict[str, Any] = {}
    for key, value in sent.items():
        if key in ("digest_time", "quiet_start", "quiet_end"):
            changes[key] = core_rules._hhmm(value)
        elif key == "mute_words":
            changes[key] = tuple(value or ())
        else:
            changes[key] = value
    return changes


def _services(request: Request) -> Services:
    return request.app.state.services


async def get_rules(request: Request) -> Response:
    store = _services(request).store
    user_id = await store.user_id(path_int(request, "telegram_id"))
    return reply(rules_out(await core_rules.read(store, user_id)))


async def patch_rules(request: Request) -> Response:
    store = _services(request).store
    telegram_id = path_int(request, "telegram_id")
    body = await parse_body(request, RulesIn)
    user_id = await store.user_id(telegram_id)
    return reply(rules_out(await core_rules.update(store, user_id, changes_of(body))))


routes = [
    Route("/users/{telegram_id}/rules", get_rules, methods=["GET"]),
    Route("/users/{telegram_id}/rules", patch_rules, methods=["PATCH"]),
]
