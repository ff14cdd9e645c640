"""A person's rules, read and changed the same way from the API, the bot and the Mini App,
and the one filter every path that shows a post applies: feed pages, training sets, the
Mini App, nudges, live pushes and digests. A muted word or an ad (when hidden) never
reaches the person, wherever the post would have come from."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import time
from typing import Any, TypeVar

from ppb.domain.ads import is_ad
from ppb.domain.rules import DeliveryMode, DigestMode, Rules, is_muted, mute_pattern
from ppb.store.queries import Row, Store

T = TypeVar("T")


def _hhmm(value: str | None) -> time | None:
    if value is None:
        return None
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def as_hhmm(value: time | None) -> str | None:
    return None if value is None else f"{value.hour:02d}:{value.minute:02d}"


def from_row(row: Row | None) -> Rules:
    if row is None:
        return Rules()
    return Rules(
        delivery=DeliveryMode(row["delivery"]),
        digest=DigestMode(row["digest"]),
        digest_time=_hhmm(row["digest_time"]) or time(9, 0),
        timezone=row["timezone"],
        quiet_start=_hhmm(row["quiet_start"]),
        quiet_end=_hhmm(row["quiet_end"]),
        mute_words=tuple(row["mute_words"] or ()),
        hide_ads=bool(row["hide_ads"]),
    )


def to_row(rules: Rules) -> dict[str, Any]:
    return {
        "delivery": DeliveryMode(rules.delivery).value,
        "digest": DigestMode(rules.digest).value,
        "digest_time": as_hhmm(rules.digest_time),
        "timezone": rules.timezone,
        "quiet_start": as_hhmm(rules.quiet_start),
        "quiet_end": as_hhmm(rules.quiet_end),
        "mute_words": list(rules.mute_words),
        "hide_ads": rules.hide_ads,
    }


async def read(store: Store, user_id: int) -> Rules:
    return from_row((await store.rules_rows([user_id])).get(user_id))


async def read_many(store: Store, user_ids: Sequence[int]) -> dict[int, Rules]:
    rows = await store.rules_rows(user_ids)
    return {user_id: from_row(rows.get(user_id)) for user_id in user_ids}


async def update(store: Store, user_id: int, changes: dict[str, Any]) -> Rules:
    """Change the given rules (already validated), keep the others."""
    rules = replace(await read(store, user_id), **changes)
    await store.put_rules(user_id, to_row(rules))
    return rules


@dataclass(frozen=True, slots=True)
class PostFilter:
    """What a person's rules hide: muted words (whole words, any case) and, if asked, ads."""

    pattern: re.Pattern[str] | None
    hide_ads: bool

    @classmethod
    def of(cls, rules: Rules) -> PostFilter:
        return cls(mute_pattern(rules.mute_words), rules.hide_ads)

    @property
    def active(self) -> bool:
        return self.pattern is not None or self.hide_ads

    def reason(self, text: str | None) -> str | None:
        """Why this post is hidden ("muted", "ad"), or None when it may be shown."""
        text = text or ""
        if is_muted(text, self.pattern):
            return "muted"
        if self.hide_ads and is_ad(text):
            return "ad"
        return None

    def shows(self, row: Row) -> bool:
        return not self.active or self.reason(row.get("text")) is None

    def keep(self, rows: Iterable[T], row_of: Any = lambda item: item) -> list[T]:
        """The items whose post may be shown, in order."""
        items = list(rows)
        if not self.active:
            return items
        return [item for item in items if self.shows(row_of(item))]


async def post_filter(store: Store, user_id: int) -> PostFilter:
    return PostFilter.of(await read(store, user_id))
