"""Delivery on arrival and digests through the store and the in-process scorer, on SQLite and
PostgreSQL: an on-topic new post is pushed to the person who likes the topic and an
off-topic one waits for the digest; quiet hours, caps, muted words and the person's mode
hold; each (person, post) is delivered once; the digest sends the best waiting posts."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
import numpy as np

from ppb.core import rules as core_rules
from ppb.actors.delivery import Deliverer
from ppb.core.delivery import Caps, digest_due, digest_pass, last_slot, on_arrival, story_key
from ppb.domain.rules import DigestMode, Rules
from ppb.http.services import Services
from ppb.ranking.live import NEVER, live_threshold
from ppb.store.schema import deliveries
from tests.store_reads import outbox_of

TECH = [
    "Python 3.13 released: a faster interpreter, a JIT compiler and better error messages for developers",
    "Linux kernel 6.8 brings new drivers, a faster scheduler and Rust support for developers",
    "PostgreSQL 17 is out: faster queries, better JSON and a new backup tool for developers",
    "Rust compiler update: faster builds, new lints and better error messages for developers",
]
FOOD = [
    "Recipe: bake a soft bread with flour, yeast, butter and a pinch of salt in the oven",
    "Recipe: a creamy mushroom soup with butter, onions, garlic and fresh thyme",
    "Recipe: apple pie with cinnamon, butter and a crisp golden crust from the oven",
    "Recipe: pancakes with flour, milk, eggs, butter and maple syrup for breakfast",
]


async def trained_person(api: httpx.AsyncClient, new_id, *, likes: list[str], dislikes: list[str]) -> tuple[int, dict]:
    """A person who rated `likes` 👍 and `dislikes` 👎 in a channel of their own, trained."""
    telegram_id = new_id()
    assert (await api.post("/api/v1/users/", json={"telegram_id": telegram_id, "first_name": "Ann"})).status_code == 201
    channel_id = -1000000000000 - new_id()
    channel = (await api.post("/api/v1/channels/", json={
        "telegram_id": channel_id, "username": f"deliv{channel_id % 10**9}", "title": "Mixed news"})).json()
    texts = likes + dislikes
    old = datetime.now(UTC) - timedelta(days=3)
    ids = (await api.post("/api/v1/posts/bulk", json={"channel_telegram_id": channel_id, "posts": [
        {"telegram_message_id": 10 + i, "text": text, "media_type": "text",
         "posted_at": (old + timedelta(minutes=i)).isoformat()} for i, text in enumerate(texts)]})).json()["post_ids"]
    started = await api.post(f"/api/v1/users/{telegram_id}/training",
                             json={"channels": [f"@{channel['username']}"], "posts_per_channel": 20})
    assert started.status_code == 200, started.text
    for post_id, text in zip(ids, texts):
        kind = "like" if text in likes else "dislike"
        rated = await api.post("/api/v1/posts/interactions",
                               json={"user_telegram_id": telegram_id, "post_id": post_id, "interaction_type": kind})
        assert rated.status_code == 200, rated.text
    user = (await api.get(f"/api/v1/users/{telegram_id}")).json()
    assert user["is_trained"] and user["status"] == "trained", user
    return telegram_id, channel


async def new_posts(api: httpx.AsyncClient, channel: dict, texts: list[str], first_id: int) -> list[int]:
    now = datetime.now(UTC)
    response = await api.post("/api/v1/posts/bulk", json={"channel_telegram_id": channel["telegram_id"], "posts": [
        {"telegram_message_id": first_id + i, "text": text, "media_type": "text", "posted_at": now.isoformat()}
        for i, text in enumerate(texts)]})
    assert response.status_code == 200, response.text
    return response.json()["post_ids"]


def test_the_live_threshold_needs_a_like_and_beats_most_turned_down_posts() -> None:
    assert live_threshold(np.array([]), np.array([1.0])) == NEVER
    assert live_threshold(np.array([2.0]), np.array([])) == 0.0
    assert live_threshold(np.array([3.0]), np.array([-2.0] * 8 + [1.5, 1.5])) == 1.5
    picky = live_threshold(np.array([3.0]), np.linspace(-1, 2, 50))
    easy = live_threshold(np.array([3.0]), np.linspace(-3, -1, 5))
    assert picky > easy


def test_cross_posts_share_a_story_and_digest_slots_follow_the_time_zone() -> None:
    assert story_key("Big NEWS: the bridge opened!") == story_key("big news — the bridge opened")
    assert story_key("The bridge opened") != story_key("The bridge closed")
    rules = Rules(digest=DigestMode.TWICE, digest_time=time(9, 0), timezone="Europe/Moscow")
    now = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)  # 15:00 in Moscow
    assert last_slot(rules, now) == datetime(2024, 3, 1, 6, 0, tzinfo=UTC)
    assert last_slot(rules, datetime(2024, 3, 1, 19, 0, tzinfo=UTC)) == datetime(2024, 3, 1, 18, 0, tzinfo=UTC)
    assert last_slot(Rules(digest=DigestMode.OFF), now) is None


def test_a_first_digest_waits_for_the_chosen_time_and_never_comes_in_quiet_hours() -> None:
    """The reported case: defaults (09:00, quiet 23:00-08:00), posts waiting since 06:30 and
    no digest yet; at 06:41 yesterday's 09:00 must not count."""
    moscow = ZoneInfo("Europe/Moscow")
    rules = Rules(timezone="Europe/Moscow")
    waiting_since = datetime(2024, 3, 2, 6, 30, tzinfo=moscow)
    assert not digest_due(rules, datetime(2024, 3, 2, 6, 41, tzinfo=moscow), None, waiting_since)
    assert not digest_due(rules, datetime(2024, 3, 2, 8, 59, tzinfo=moscow), None, waiting_since)
    assert digest_due(rules, datetime(2024, 3, 2, 9, 0, tzinfo=moscow), None, waiting_since)
    sent = datetime(2024, 3, 2, 9, 0, 30, tzinfo=moscow)
    assert not digest_due(rules, datetime(2024, 3, 2, 15, 0, tzinfo=moscow), sent, waiting_since)
    early = Rules(timezone="Europe/Moscow", digest_time=time(7, 0))  # a digest time inside quiet hours
    assert not digest_due(early, datetime(2024, 3, 2, 7, 0, tzinfo=moscow), None, waiting_since - timedelta(hours=9))
    assert digest_due(early, datetime(2024, 3, 2, 8, 0, tzinfo=moscow), None, waiting_since - timedelta(hours=9))
    twice = Rules(timezone="Europe/Moscow", digest=DigestMode.TWICE)
    assert digest_due(twice, datetime(2024, 3, 2, 21, 5, tzinfo=moscow), sent, datetime(2024, 3, 2, 12, 0, tzinfo=moscow))


async def test_on_topic_is_pushed_off_topic_waits_and_nothing_is_delivered_twice(
        api: httpx.AsyncClient, services: Services, new_id) -> None:
    telegram_id, channel = await trained_person(api, new_id, likes=TECH, dislikes=FOOD)
    user_id = await services.store.user_id(telegram_id)
    await core_rules.update(services.store, user_id, {"quiet_start": None, "quiet_end": None})
    tech, food = await new_posts(api, channel, [
        "Go 1.22 released: a faster compiler, better tooling and new features for developers",
        "Recipe: a chocolate cake with butter, flour, eggs and cocoa baked in the oven"], 100)
    now = datetime.now(UTC)
    report = await on_arrival(services.store, services.scoring, [tech, food], Caps(), now)
    assert report.pushed == 1 and report.pushed_to == [user_id]
    queued = await outbox_of(services.store, user_id)
    assert [(m["kind"], m["payload"]["post"]["id"], m["chat_id"]) for m in queued] == [("push", tech, telegram_id)]
    recorded = await services.store.database.fetch_all(deliveries.select().where(deliveries.c.user_id == user_id))
    routes = {d.post_id: (d.route, d.status) for d in recorded}
    assert routes == {tech: ("push", "queued"), food: ("digest", "waiting")}
    again = await on_arrival(services.store, services.scoring, [tech, food], Caps(), now)
    assert again.pushed == 0 and again.scored == 0, "each (person, post) once"
    assert tech in await services.store.seen_post_ids(user_id), "a pushed post is never in the feed again"

    evening = now.replace(hour=23, minute=59) + timedelta(days=1)  # a digest time (09:00) after the arrival
    digest = await digest_pass(services.store, Caps(), evening)
    assert digest.queued >= 1
    sent = [m for m in await outbox_of(services.store, user_id) if m["kind"] == "digest"]
    assert [[p["id"] for p in m["payload"]["posts"]] for m in sent] == [[food]]
    later = await digest_pass(services.store, Caps(), evening)
    assert not [m for m in await outbox_of(services.store, user_id) if m["kind"] == "digest"][1:], later


async def test_quiet_hours_caps_muted_words_and_the_mode_hold(
        api: httpx.AsyncClient, services: Services, new_id) -> None:
    telegram_id, channel = await trained_person(api, new_id, likes=TECH, dislikes=FOOD)
    store = services.store
    user_id = await store.user_id(telegram_id)
    now = datetime.now(UTC)
    hour = now.hour
    await core_rules.update(store, user_id, {"quiet_start": time(hour, 0), "quiet_end": time((hour + 1) % 24, 0)})
    quiet = await new_posts(api, channel, ["Kotlin 2.0 released: a faster compiler and new tooling for developers"], 200)
    report = await on_arrival(store, services.scoring, quiet, Caps(), now)
    assert report.pushed == 0 and report.waiting == 1, "quiet hours: to the digest instead"

    await core_rules.update(store, user_id, {"quiet_start": None, "quiet_end": None, "mute_words": ("kernel",)})
    muted = await new_posts(api, channel, ["New Linux KERNEL release: faster drivers for developers"], 300)
    report = await on_arrival(store, services.scoring, muted, Caps(), now)
    assert report.hidden == 1 and report.pushed == 0 and report.waiting == 0, "a muted word reaches no path"

    burst = await new_posts(api, channel, [
        "Swift 6 released: a faster compiler and better error messages for developers",
        "Zig 0.12 released: a faster compiler and new build tooling for developers",
        "Node.js 22 released: a faster engine and better error messages for developers"], 400)
    report = await on_arrival(store, services.scoring, burst, Caps(hourly=1), now)
    assert report.pushed == 1 and report.waiting == 2, "the hourly cap: one push, the rest wait"

    await core_rules.update(store, user_id, {"delivery": "digest"})
    digest_only = await new_posts(api, channel, ["Java 22 released: a faster compiler for developers"], 500)
    report = await on_arrival(store, services.scoring, digest_only, Caps(), now)
    assert report.pushed == 0 and report.waiting == 1
    assert len([m for m in await outbox_of(store, user_id) if m["kind"] == "push"]) == 1


async def test_the_deliverer_sends_a_first_digest_at_the_chosen_time_outside_quiet_hours(
        api: httpx.AsyncClient, services: Services, new_id) -> None:
    """Through the store with the deliverer's clock in the test's hand: nothing before the
    digest time, nothing in quiet hours, then one digest."""
    telegram_id, channel = await trained_person(api, new_id, likes=TECH, dislikes=FOOD)
    store = services.store
    user_id = await store.user_id(telegram_id)
    arrived = datetime.now(UTC)
    slot = (arrived + timedelta(hours=2)).replace(second=0, microsecond=0)
    await core_rules.update(store, user_id, {
        "timezone": "UTC", "digest_time": slot.time(),
        "quiet_start": (slot - timedelta(minutes=30)).time(), "quiet_end": (slot + timedelta(hours=1)).time()})
    food = await new_posts(api, channel, ["Recipe: a lemon tart with butter, sugar, eggs and a crisp crust"], 600)
    report = await on_arrival(store, services.scoring, food, Caps(), arrived)
    assert report.waiting == 1 and report.pushed == 0
    clock = {"now": arrived + timedelta(minutes=1)}
    deliverer = Deliverer(store, services.scoring, Caps(), clock=lambda: clock["now"])

    async def digests() -> list[dict]:
        await deliverer.digests()
        return [m for m in await outbox_of(store, user_id) if m["kind"] == "digest"]

    assert await digests() == [], "yesterday's digest time is not a reason to send one now"
    clock["now"] = slot
    assert await digests() == [], "the digest time came, but inside quiet hours"
    clock["now"] = slot + timedelta(hours=1)
    sent = await digests()
    assert [[p["id"] for p in m["payload"]["posts"]] for m in sent] == [food]
    clock["now"] = slot + timedelta(hours=3)
    assert len(await digests()) == 1, "one digest per digest time"


async def test_a_must_see_word_is_pushed_within_the_caps_and_a_never_channel_reaches_no_path(
        api: httpx.AsyncClient, services: Services, new_id) -> None:
    telegram_id, channel = await trained_person(api, new_id, likes=TECH, dislikes=FOOD)
    store = services.store
    user_id = await store.user_id(telegram_id)
    await core_rules.update(store, user_id, {"quiet_start": None, "quiet_end": None, "must_words": ("pancakes",)})
    now = datetime.now(UTC)
    wanted, cake = await new_posts(api, channel, [
        "Recipe: fluffy PANCAKES with butter, flour and maple syrup for a slow breakfast",
        "Recipe: a chocolate cake with butter, flour, eggs and cocoa baked in the oven"], 700)
    report = await on_arrival(store, services.scoring, [wanted, cake], Caps(), now)
    recorded = await store.database.fetch_all(deliveries.select().where(deliveries.c.user_id == user_id))
    routes = {d.post_id: d.route for d in recorded}
    assert routes == {wanted: "push", cake: "digest"}, "a must-see word is pushed, whatever the model thinks of food"

    (second,) = await new_posts(api, channel, ["Pancakes for dinner: a recipe with eggs, milk and flour"], 800)
    report = await on_arrival(store, services.scoring, [second], Caps(hourly=1), now)
    assert report.pushed == 0 and report.waiting == 1, "still within the hourly cap: it waits for the digest"

    dialled = await api.patch(f"/api/v1/users/{telegram_id}/rules", json={"channel_dials": {channel["username"]: "never"}})
    assert dialled.status_code == 200, dialled.text
    never = await new_posts(api, channel, [
        "Python 3.14 released: a faster interpreter and better error messages for developers",
        "Recipe: thin pancakes with lemon and sugar"], 900)
    report = await on_arrival(store, services.scoring, never, Caps(), now)
    assert report.hidden == 2 and report.pushed == 0 and report.waiting == 0, "never: no push, no digest"



async def test_a_must_see_post_leads_the_digest(api: httpx.AsyncClient, services: Services, new_id) -> None:
    telegram_id, channel = await trained_person(api, new_id, likes=TECH, dislikes=FOOD)
    store = services.store
    user_id = await store.user_id(telegram_id)
    await core_rules.update(store, user_id, {"delivery": "digest", "must_words": ("waffles",)})
    tech, waffles = await new_posts(api, channel, [
        "Go 1.22 released: a faster compiler, better tooling and new features for developers",
        "Recipe: crisp waffles with butter, flour and eggs for a slow breakfast"], 1000)
    now = datetime.now(UTC)
    report = await on_arrival(store, services.scoring, [tech, waffles], Caps(), now)
    assert report.pushed == 0 and report.waiting == 2, "digest only: both wait, the must-see one too"
    recorded = await store.database.fetch_all(deliveries.select().where(deliveries.c.user_id == user_id))
    scores = {d.post_id: d.score for d in recorded}
    assert scores[tech] > scores[waffles], "the model prefers the tech post"
    await core_rules.update(store, user_id, {"quiet_start": None, "quiet_end": None})
    digest = await digest_pass(store, Caps(), now.replace(hour=23, minute=59) + timedelta(days=1))
    assert digest.queued >= 1
    sent = [m for m in await outbox_of(store, user_id) if m["kind"] == "digest"]
    assert [[p["id"] for p in m["payload"]["posts"]] for m in sent] == [[waffles, tech]]
