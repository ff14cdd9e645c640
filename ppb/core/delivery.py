"""Delivery: new posts scored on arrival for the people who follow their channel, pushed
live when worth it, the rest kept for the person's digest; digests when they are due.

On arrival (posts/bulk, a scraper refresh, an import) one batched scorer call scores every
new post for every follower. A post is skipped for a person who rated it, already has it
in the chat, or has another post of the same story (cross-posts collapse on their
normalized text); their own rules hide muted words, ads and channels dialled to never. A
post above the person's live threshold, or holding one of their must-see words (whatever
the model says), is pushed (queued in the outbox) unless delivery is off or digest-only,
it is their quiet hours, or the hourly or daily cap is reached; must-see posts take the
cap first. Every other post waits for the digest, which sends the best of them at the
person's chosen time, must-see ones first.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from ppb.core import rules as core_rules
from ppb.domain.rules import DigestMode, Rules, in_quiet_hours, normalize
from ppb.ranking.live import NEVER
from ppb.store.queries import Row, Store

STORY_WINDOW = timedelta(days=3)
"""A second post of a story within this long is not delivered again."""
MUST_SEE_SCORE = 0.0
"""The score kept for a must-see post the person's model has not scored (no model yet)."""
_WORDS = re.compile(r"\w+")


class ArrivalScores(Protocol):
    decisions: dict[int, float]
    threshold: float


class ArrivalScorer(Protocol):
    async def score_arrivals(self, user_ids: list[int], post_ids: list[int]) -> dict[int, ArrivalScores]: ...


@dataclass(frozen=True, slots=True)
class Caps:
    hourly: int = 3
    daily: int = 10
    digest_size: int = 10


@dataclass(slots=True)
class ArrivalReport:
    posts: int = 0
    followers: int = 0
    scored: int = 0  # (person, post) pairs scored
    pushed: int = 0
    waiting: int = 0  # kept for a digest
    hidden: int = 0  # muted words or ads
    pushed_to: list[int] = field(default_factory=list)  # user ids that got a push


def story_key(text: str | None) -> str:
    """Cross-posts of one story share this: the first 30 words, normalized."""
    words = _WORDS.findall(normalize(text or ""))[:30]
    return hashlib.blake2b(" ".join(words).encode(), digest_size=12).hexdigest()


def snapshot(post: Row) -> dict[str, Any]:
    """What a queued message needs of a post (a restart sends the same message)."""
    return {key: post.get(key) for key in (
        "id", "text", "html", "channel_title", "channel_username", "telegram_message_id", "media_type")}


async def on_arrival(store: Store, scorer: ArrivalScorer, post_ids: Sequence[int], caps: Caps,
                     now: datetime) -> ArrivalReport:
    """Score new posts for their channels' followers; queue pushes, keep the rest for digests."""
    report = ArrivalReport()
    posts = {int(row["id"]): row for row in await store.feed_posts(list(post_ids))}
    report.posts = len(posts)
    if not posts:
        return report
    channel_posts: dict[int, list[int]] = {}
    for post_id, row in posts.items():
        channel_posts.setdefault(int(row["channel_id"]), []).append(post_id)
    follows = await store.followers(sorted(channel_posts))
    people: dict[int, Row] = {}
    candidates: dict[int, list[int]] = {}
    for follow in follows:
        people.setdefault(int(follow["user_id"]), follow)
        candidates.setdefault(int(follow["user_id"]), []).extend(channel_posts[int(follow["channel_id"])])
    report.followers = len(people)
    if not people:
        return report
    user_ids = sorted(people)
    rules = await core_rules.read_many(store, user_ids)
    seen = await store.seen_pairs(user_ids, sorted(posts))
    must: dict[int, set[int]] = {}  # per person, the posts with a must-see word
    for user_id in user_ids:
        hidden = core_rules.PostFilter.of(rules[user_id])
        fresh = [p for p in candidates[user_id] if (user_id, p) not in seen]
        shown = [p for p in fresh if hidden.shows(posts[p])]
        report.hidden += len(fresh) - len(shown)
        candidates[user_id] = shown
        must[user_id] = {p for p in shown if hidden.must_see(posts[p])}
    wanted = sorted({p for ids in candidates.values() for p in ids})
    scores = await scorer.score_arrivals([u for u in user_ids if candidates[u]], wanted) if wanted else {}
    stories = await store.recent_stories(user_ids, now - STORY_WINDOW)
    pushed_hour = await store.pushes_since(user_ids, now - timedelta(hours=1))
    pushed_day = await store.pushes_since(user_ids, now - timedelta(days=1))
    records: list[dict[str, Any]] = []
    pushes: dict[tuple[int, int], dict[str, Any]] = {}
    for user_id in user_ids:
        scored = scores.get(user_id)
        if scored is None and not must[user_id]:
            continue
        decisions = scored.decisions if scored is not None else {}
        threshold = scored.threshold if scored is not None else NEVER
        person_rules = rules[user_id]
        may_push = person_rules.pushes and not in_quiet_hours(person_rules, now)
        budget = min(caps.hourly - pushed_hour.get(user_id, 0), caps.daily - pushed_day.get(user_id, 0))
        ranked = sorted((p for p in candidates[user_id] if p in decisions or p in must[user_id]),
                        key=lambda p: (p in must[user_id], decisions.get(p, -math.inf)), reverse=True)
        kept = 0  # for the digest: only what could make it (the best `digest_size` of a batch)
        for post_id in ranked:
            story = story_key(posts[post_id]["text"])
            if (user_id, story) in stories:
                continue
            stories.add((user_id, story))
            wanted = post_id in must[user_id]
            decision = decisions.get(post_id, MUST_SEE_SCORE)
            push = may_push and budget > 0 and (wanted or decision > threshold)
            if not push and (kept >= caps.digest_size or not person_rules.digests):
                continue
            kept += int(not push)
            budget -= int(push)
            records.append({"user_id": user_id, "post_id": post_id, "score": decision, "story": story,
                            "route": "push" if push else "digest", "status": "queued" if push else "waiting"})
            if push:
                pushes[(user_id, post_id)] = {"user_id": user_id, "chat_id": int(people[user_id]["telegram_id"]),
                                              "kind": "push", "payload": {"post": snapshot(posts[post_id])}}
    report.scored = len(records)
    added = await store.add_deliveries(records)  # each (person, post) once, whoever scores it again
    queued = [message for key, message in pushes.items() if key in added]
    if queued:
        await store.enqueue(queued)
        await store.add_chat_pairs([(m["user_id"], int(m["payload"]["post"]["id"])) for m in queued])
    report.pushed = len(queued)
    report.pushed_to = sorted({message["user_id"] for message in queued})
    report.waiting = sum(1 for r in records if r["route"] == "digest" and (r["user_id"], r["post_id"]) in added)
    return report


# digests -------------------------------------------------------------------------------------


def last_slot(rules: Rules, now: datetime) -> datetime | None:
    """The latest scheduled digest time at or before `now` (aware), in the person's zone."""
    if not rules.digests:
        return None
    zone = ZoneInfo(rules.timezone)
    local = now.astimezone(zone)
    slots = []
    for day in (local.date() - timedelta(days=1), local.date()):
        first = datetime.combine(day, rules.digest_time, tzinfo=zone)
        slots.append(first)
        if rules.digest == DigestMode.TWICE:
            slots.append(first + timedelta(hours=12))
    past = [slot for slot in slots if slot <= local]
    return max(past) if past else None


def digest_due(rules: Rules, now: datetime, last_sent: datetime | None, waiting_since: datetime) -> bool:
    """Whether the person's digest goes out now: one of their digest times has come since the
    oldest waiting post arrived (and since their last digest), and it is not their quiet hours
    (then it waits for them to end). So a first digest comes at the chosen time, never at once
    for a time that passed before anything waited."""
    slot = last_slot(rules, now)
    if slot is None or slot <= waiting_since or (last_sent is not None and slot <= last_sent):
        return False
    return not in_quiet_hours(rules, now)


@dataclass(slots=True)
class DigestReport:
    due: int = 0
    queued: int = 0
    posts: int = 0


async def digest_pass(store: Store, caps: Caps, now: datetime) -> DigestReport:
    """Queue a digest for everyone who has posts waiting and whose digest is due (`digest_due`)."""
    report = DigestReport()
    for person in await store.digest_candidates():
        row = person if person.get("delivery") is not None else None
        rules = core_rules.from_row(row)
        last = person.get("last_digest_at")
        if not digest_due(rules, now, _aware(last) if last is not None else None, _aware(person["waiting_since"])):
            continue
        report.due += 1
        user_id = int(person["user_id"])
        hidden = core_rules.PostFilter.of(rules)
        waiting = await store.waiting_posts(user_id)
        seen = await store.seen_pairs([user_id], [int(post["id"]) for post in waiting], scored=False)
        unseen = [post for post in waiting if (user_id, int(post["id"])) not in seen]
        chosen = hidden.keep(unseen)[: caps.digest_size]  # must-see posts first
        if chosen:
            await store.enqueue([{"user_id": user_id, "chat_id": int(person["telegram_id"]), "kind": "digest",
                                  "payload": {"posts": [snapshot(post) for post in chosen]}}])
            await store.add_chat_posts(user_id, [int(post["id"]) for post in chosen])
            report.queued += 1
            report.posts += len(chosen)
        await store.close_digest(user_id, [int(post["id"]) for post in chosen])
        await store.mark_digest_sent(user_id, core_rules.to_row(rules), now)
    return report


def _aware(value: datetime) -> datetime:
    from ppb.store.queries import as_utc

    return as_utc(value)
