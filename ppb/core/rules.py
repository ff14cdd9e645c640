"""A person's rules, read and changed the same way from the API, the bot and the Mini App,
and the one filter every path that shows a post applies: feed pages, training sets, the
Mini App, nudges, live pushes and digests. A muted word, an ad (when hidden) or a channel
dialled to "never" never reaches the person, wherever the post would have come from; a
must-see word puts its post first (`PostFilter.must_see`)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import time
from typing import Any, TypeVar

from ppb.domain.ads import is_ad
from ppb.domain.rules import ChannelDial, DeliveryMode, DigestMode, Rules, is_muted, mute_pattern, with_dials
from ppb.ranking.dials import LESS, MORE, ChannelDials
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
        must_words=tuple(row.get("must_words") or ()),
        channel_dials={int(channel): ChannelDial(dial) for channel, dial in (row.get("channel_dials") or {}).items()},
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
        "must_words": list(rules.must_words),
        "channel_dials": {str(channel): ChannelDial(dial).value for channel, dial in sorted(rules.channel_dials.items())},
    }


async def read(store: Store, user_id: int) -> Rules:
    return from_row((await store.rules_rows([user_id])).get(user_id))


async def read_many(store: Store, user_ids: Sequence[int]) -> dict[int, Rules]:
    rows = await store.rules_rows(user_ids)
    return {user_id: from_row(rows.get(user_id)) for user_id in user_ids}


async def update(store: Store, user_id: int, changes: dict[str, Any]) -> Rules:
    """Change the given rules (already validated), keep the others; `channel_dials` are
    changes to the kept dials (NORMAL clears one)."""
    kept = await read(store, user_id)
    if "channel_dials" in changes:
        changes = {**changes, "channel_dials": with_dials(kept.channel_dials, changes["channel_dials"])}
    rules = replace(kept, **changes)
    await store.put_rules(user_id, to_row(rules))
    return rules


def ranking_dials(rules: Rules) -> ChannelDials | None:
    """The person's dials as the ranking applies them (None: every channel on normal)."""
    if not rules.channel_dials:
        return None
    shift = {ChannelDial.MORE: MORE, ChannelDial.LESS: LESS}
    return ChannelDials(
        {channel: shift[dial] for channel, dial in rules.channel_dials.items() if dial in shift},
        rules.never_channels,
    )


@dataclass(frozen=True, slots=True)
class PostFilter:
    """What a person's rules hide (muted words, whole words in any case; ads if asked; the
    channels dialled to never) and what they always want (must-see words, matched alike)."""

    pattern: re.Pattern[str] | None
    hide_ads: bool
    never: frozenset[int] = frozenset()
    must: re.Pattern[str] | None = None

    @classmethod
    def of(cls, rules: Rules) -> PostFilter:
        return cls(mute_pattern(rules.mute_words), rules.hide_ads, rules.never_channels, mute_pattern(rules.must_words))

    @property
    def active(self) -> bool:
        return self.pattern is not None or self.hide_ads or bool(self.never)

    def reason(self, text: str | None, channel_id: int | None = None) -> str | None:
        """Why this post is hidden ("muted", "ad", "never": its channel), or None when it
        may be shown. A must-see word does not overrule these: the person said both."""
        if channel_id is not None and channel_id in self.never:
            return "never"
        text = text or ""
        if is_muted(text, self.pattern):
            return "muted"
        if self.hide_ads and is_ad(text):
            return "ad"
        return None

    def shows(self, row: Row) -> bool:
        if not self.active:
            return True
        channel = row.get("channel_id")
        return self.reason(row.get("text"), None if channel is None else int(channel)) is None

    def must_see(self, row: Row) -> bool:
        """Whether the post holds a must-see word (and is shown: `shows`)."""
        return self.must is not None and is_muted(row.get("text") or "", self.must) and self.shows(row)

    def keep(self, rows: Iterable[T], row_of: Any = lambda item: item) -> list[T]:
        """The items whose post may be shown, in order, those with a must-see word first."""
        items = list(rows)
        if self.active:
            items = [item for item in items if self.shows(row_of(item))]
        if self.must is None:
            return items
        wanted = [self.must_see(row_of(item)) for item in items]
        return [item for item, must in zip(items, wanted) if must] + [
            item for item, must in zip(items, wanted) if not must]


async def post_filter(store: Store, user_id: int) -> PostFilter:
    return PostFilter.of(await read(store, user_id))
