"""Scoring on arrival: 1,000 followers x 100 new posts scored and their pushes queued, and
the same scoring one user at a time, side by side in one run (SQLite, ranking in process).

    python bench/delivery.py [--users 1000] [--posts 100]

Each user rated 12 older posts of the channel (likes on one topic, dislikes on another).
Models are fitted once first (the warm-up is printed too: it is what a cold Scorer pays).
Prints one table; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from ppb.config import load_settings  # noqa: E402
from ppb.core.delivery import Caps, on_arrival  # noqa: E402
from ppb.core.scoring import Scoring  # noqa: E402
from ppb.store.migrate import upgrade_async  # noqa: E402
from ppb.store.queries import NewPost, Store  # noqa: E402
from ppb.store.schema import interactions, user_channels, user_rules, users  # noqa: E402

TOPICS = {
    "tech": ["compiler", "kernel", "database", "release", "developers", "python", "rust", "linux", "query", "server"],
    "food": ["recipe", "butter", "flour", "oven", "soup", "garlic", "bread", "cake", "onion", "breakfast"],
    "sport": ["match", "goal", "season", "coach", "league", "team", "score", "final", "player", "cup"],
    "space": ["rocket", "orbit", "launch", "moon", "mars", "satellite", "crew", "station", "engine", "telescope"],
}


def text(topic: str, rng: random.Random) -> str:
    words = rng.sample(TOPICS[topic], 6) + rng.sample([w for t in TOPICS.values() for w in t], 2)
    return f"{topic.title()} news: " + " ".join(words) + f" #{rng.randrange(10**6)}"


async def setup(store: Store, user_count: int, rng: random.Random) -> tuple[int, list[int]]:
    channel = await store.upsert_channel(-1001000000001, "bench_delivery", "Bench news")
    old = datetime.now(UTC) - timedelta(days=5)
    history = [(topic, text(topic, rng)) for topic in TOPICS for _ in range(50)]
    _, ids = await store.add_posts(channel["id"], [
        NewPost(i + 1, body, "text", old + timedelta(minutes=i)) for i, (_, body) in enumerate(history)])
    by_topic = {topic: [pid for pid, (t, _) in zip(ids, history) if t == topic] for topic in TOPICS}
    now = datetime.now(UTC)
    user_rows = [{"telegram_id": 10_000 + n, "first_name": f"u{n}", "status": "trained", "is_trained": True,
                  "bonus_channels_count": 0, "created_at": now, "updated_at": now, "last_activity_at": now}
                 for n in range(user_count)]
    await store.database.execute_many(users.insert(), user_rows)
    user_ids = [int(r[0]) for r in await store.database.fetch_all(sa.select(users.c.id).order_by(users.c.id))]
    await store.database.execute_many(user_channels.insert(), [
        {"user_id": u, "channel_id": channel["id"], "is_for_training": True, "is_bonus": False, "created_at": now}
        for u in user_ids])
    await store.database.execute_many(user_rules.insert(), [
        {"user_id": u, "delivery": "both", "digest": "daily", "digest_time": "09:00", "timezone": "UTC",
         "quiet_start": None, "quiet_end": None, "mute_words": [], "hide_ads": False, "updated_at": now}
        for u in user_ids])
    rating_rows = []
    names = list(TOPICS)
    for u in user_ids:
        liked, disliked = rng.sample(names, 2)
        for post_id in rng.sample(by_topic[liked], 6):
            rating_rows.append({"user_id": u, "post_id": post_id, "interaction_type": "like", "created_at": now})
        for post_id in rng.sample(by_topic[disliked], 6):
            rating_rows.append({"user_id": u, "post_id": post_id, "interaction_type": "dislike", "created_at": now})
    for start in range(0, len(rating_rows), 5000):
        await store.database.execute_many(interactions.insert(), rating_rows[start : start + 5000])
    return int(channel["id"]), user_ids


async def main(user_count: int, post_count: int) -> None:
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(DATABASE_URL=f"sqlite:///{folder}/bench.db", PPB_COLLABORATIVE=False)
        await upgrade_async(settings.async_database_url)
        store = Store(settings.async_database_url)
        await store.connect()
        channel_id, user_ids = await setup(store, user_count, rng)
        scoring = Scoring.from_settings(store, settings)

        started = time.perf_counter()
        await scoring.score_arrivals(user_ids, [1])  # fits every model once
        warm_up = time.perf_counter() - started

        now = datetime.now(UTC)
        _, new_ids = await store.add_posts(channel_id, [
            NewPost(10_000 + i, text(rng.choice(list(TOPICS)), rng), "text", now) for i in range(post_count)])
        pairs = user_count * post_count

        started = time.perf_counter()
        await scoring.score_arrivals(user_ids, new_ids)
        batched = time.perf_counter() - started

        started = time.perf_counter()
        for user_id in user_ids:
            await scoring.score_arrivals([user_id], new_ids)
        one_by_one = time.perf_counter() - started

        started = time.perf_counter()
        report = await on_arrival(store, scoring, new_ids, Caps(hourly=3, daily=10), now)
        whole = time.perf_counter() - started
        await store.disconnect()

    print(f"{user_count} followers x {post_count} new posts = {pairs} pairs (SQLite, ranking in process)")
    print(f"{'':38} {'seconds':>8} {'pairs scored/s':>15} {'messages queued/s':>18}")
    print(f"{'fit every model (cold Scorer, once)':38} {warm_up:8.2f}")
    print(f"{'scoring, one call for everyone':38} {batched:8.3f} {pairs / batched:15,.0f}")
    print(f"{'scoring, one user at a time':38} {one_by_one:8.3f} {pairs / one_by_one:15,.0f}")
    print(f"{'on_arrival: score, decide, queue':38} {whole:8.3f} {pairs / whole:15,.0f} {report.pushed / whole:18,.0f}")
    print(f"batched / one at a time: {one_by_one / batched:.1f}x faster; "
          f"pushes queued {report.pushed}, kept for digests {report.waiting}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--posts", type=int, default=100)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.users, arguments.posts))
