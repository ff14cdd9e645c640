"""A person's delivery rules: `GET` and `PATCH /users/{telegram_id}/rules` (with their
must-see words and channel dials)."""

from __future__ import annotations

import re
from typing import Annotated, Any
from zoneinfo import available_timezones

from pydantic import AfterValidator, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ppb.core import rules as core_rules
from ppb.domain.channels import ChannelName
from ppb.domain.errors import Invalid
from ppb.domain.rules import (
    MAX_MUTE_WORDS,
    WORD_CHARACTER,
    ChannelDial,
    DeliveryMode,
    DigestMode,
    Rules,
    check_mute_words,
    check_timezone,
)
from ppb.http.body import parse_body, path_int, reply
from ppb.http.schemas import Body, ChannelText, Out, Stated, Text, not_null
from ppb.http.services import Services
from ppb.store.queries import Store

MAX_DIALS = 100
"""Channel dials one request may change."""

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
DialsIn = Annotated[dict[ChannelText, ChannelDial], Field(max_length=MAX_DIALS),
                    Stated({"additionalProperties": False})]
"""Channel (@name, name, a t.me link or an id) to dial; only the channels sent change."""


class RulesIn(Body):
    """Only the fields sent change; `quiet_start` and `quiet_end` null (both) mean no quiet
    hours: one of them null alone is refused. `must_words` replace the kept ones, as
    `mute_words` do; `channel_dials` change only the channels named (`normal` clears one's
    dial), each a channel PPB has."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"delivery": "both", "digest": "daily", "digest_time": "09:00", "timezone": "Europe/Moscow", "quiet_start": "23:00", "quiet_end": "08:00", "mute_words": ["crypto"], "hide_ads": True, "must_words": ["PPB release"]}]})

    delivery: Annotated[DeliveryMode | None, NOT_NULL] = None
    digest: Annotated[DigestMode | None, NOT_NULL] = None
    digest_time: Annotated[Clock | None, NOT_NULL] = None
    timezone: Annotated[TimeZone | None, NOT_NULL] = None
    quiet_start: Clock | None = None
    quiet_end: Clock | None = None
    mute_words: MuteWords | None = None
    hide_ads: Annotated[bool | None, NOT_NULL] = None
    must_words: Annotated[MuteWords | None, NOT_NULL] = None
    channel_dials: Annotated[DialsIn | None, NOT_NULL] = None


class DialOut(Out):
    channel: str  # its username, else its numeric id: what `channel_dials` takes back
    title: str
    dial: ChannelDial


class RulesOut(Out):
    delivery: DeliveryMode
    digest: DigestMode
    digest_time: str
    timezone: str
    quiet_start: str | None
    quiet_end: str | None
    mute_words: list[str]
    hide_ads: bool
    must_words: list[str]
    channel_dials: list[DialOut]  # the person's channels (normal too) and any other one dialled, by title


async def rules_out(store: Store, user_id: int, rules: Rules) -> RulesOut:
    """The rules as the API shows them, with a dial for each of the person's channels (a
    channel gone is left out)."""
    channels = await store.list_user_channels(user_id)
    followed = {int(row["id"]) for row in channels}
    others = sorted(set(rules.channel_dials) - followed)
    channels += await store.channels_by_ids(others) if others else []
    dials = [{"channel": row["username"] or str(row["telegram_id"]), "title": row["title"],
              "dial": rules.channel_dials.get(int(row["id"]), ChannelDial.NORMAL)} for row in channels]
    row = core_rules.to_row(rules)
    return RulesOut.model_validate({**row, "channel_dials": sorted(dials, key=lambda d: (d["title"], d["channel"]))})


async def dial_changes(store: Store, sent: dict[str, ChannelDial]) -> dict[int, ChannelDial]:
    """The dials sent, by channel id; 422 naming a channel that is not one or PPB lacks."""
    names = {raw: ChannelName.parse(raw, f"channel_dials.{raw}") for raw in sent}
    found = await store.find_channels(list(dict.fromkeys(names.values())))
    ids = {row["username"]: int(row["id"]) for row in found if row["username"]}
    ids.update({row["telegram_id"]: int(row["id"]) for row in found})
    changes: dict[int, ChannelDial] = {}
    for raw, name in names.items():
        channel = ids.get(name.key)
        if channel is None:
            raise Invalid(f"channel_dials.{raw}: unknown channel (PPB does not read {name!r}: add it first)")
        changes[channel] = ChannelDial(sent[raw])
    return changes


async def changes_of(store: Store, body: RulesIn) -> dict[str, Any]:
    """The fields sent, as `Rules` values (dials as changes to the kept ones: `core.rules.update`);
    422 when only one end of the quiet hours is cleared, or a dial names no channel PPB has."""
    sent = body.model_dump(exclude_unset=True)
    quiet = {key for key in ("quiet_start", "quiet_end") if key in sent}
    cleared = {key for key in quiet if sent[key] is None}
    if cleared and cleared != {"quiet_start", "quiet_end"}:
        name = next(iter(cleared))
        raise Invalid(f"{name}: null only together with the other end (both null: no quiet hours)")
    for key in ("delivery", "digest", "timezone", "hide_ads", "must_words", "channel_dials"):
        if key in sent and sent[key] is None:
            raise Invalid(f"{key}: must not be null")
    if "digest_time" in sent and sent["digest_time"] is None:
        raise Invalid("digest_time: must not be null")
    changes: dict[str, Any] = {}
    for key, value in sent.items():
        if key in ("digest_time", "quiet_start", "quiet_end"):
            changes[key] = core_rules._hhmm(value)
        elif key in ("mute_words", "must_words"):
            changes[key] = tuple(value or ())
        elif key == "channel_dials":
            changes[key] = await dial_changes(store, value)
        else:
            changes[key] = value
    return changes


def _services(request: Request) -> Services:
    return request.app.state.services


async def get_rules(request: Request) -> Response:
    store = _services(request).store
    user_id = await store.user_id(path_int(request, "telegram_id"))
    return reply(await rules_out(store, user_id, await core_rules.read(store, user_id)))


async def patch_rules(request: Request) -> Response:
    store = _services(request).store
    telegram_id = path_int(request, "telegram_id")
    body = await parse_body(request, RulesIn)
    user_id = await store.user_id(telegram_id)
    changes = await changes_of(store, body)
    return reply(await rules_out(store, user_id, await core_rules.update(store, user_id, changes)))


routes = [
    Route("/users/{telegram_id}/rules", get_rules, methods=["GET"]),
    Route("/users/{telegram_id}/rules", patch_rules, methods=["PATCH"]),
]
