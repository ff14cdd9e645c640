"""Ranking speed: ml/train on 100 ratings, posts/best over 10k candidates, posts/explain of a
post of that page (and what keeping each explanation adds), scoring throughput, each side by side with a plain numpy baseline doing
the same arithmetic on arrays already in memory (no store, no HTTP, no duplicate
collapsing): the floor our overhead is measured against. Also the cost without the per-process vector cache (every candidate re-vectorized).
Posts are real text (Debian package descriptions, `bench/data/`).

The API runs in process (ASGI) over a fresh SQLite file unless --database-url is given.

    python bench/ranking.py [--candidates 10000] [--ratings 100] [--runs 200]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ranking_eval import descriptions  # noqa: E402
from ppb.config import Settings  # noqa: E402
from ppb.ranking import TextModel, load_encoder  # noqa: E402
from ppb.store.queries import Store  # noqa: E402

LIKED = {"games", "sound", "science"}

KEY = "bench-key-0123456789"
USER = 424242


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


async def timed(call: Callable[[], Awaitable[object]], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        times.append((time.perf_counter() - started) * 1000)
    return times


async def wait_embedded(settings: Settings, store: Store, timeout_s: float = 900.0) -> float:
    """Wait until the embedding stage (in this process, started with the app) has made every
    post's vector and n-gram row under a text model that is not about to be estimated again:
    timed while it works through 10k posts, the feed's figures are the stage's as much as its
    own. Returns the seconds waited."""
    from ppb.compose.core import embedder
    from ppb.ranking import outgrown

    stage = embedder(settings, store)
    started = time.monotonic()
    while stage is not None and time.monotonic() - started < timeout_s:
        versions = await store.text_model_versions()
        if (versions and versions[0].ready and not outgrown(versions[0].documents, await store.newest_post_id())
                and await stage.backlog() == 0):
            break
        await asyncio.sleep(1)
    return time.monotonic() - started


def timed_sync(call: Callable[[], object], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return times


def real_posts(count: int) -> list[tuple[str, str]]:
    """`count` (text, section) pairs of Debian's package descriptions; past the corpus's
    size, two descriptions of one section are joined, so no post repeats."""
    rows = [row for row in descriptions() if row["lang"] == "en"]
    rng = random.Random(0)
    posts = [(row["text"], row["section"]) for row in rows]
    by_section: dict[str, list[str]] = {}
    for text, section in posts:
        by_section.setdefault(section, []).append(text)
    while len(posts) < count:
        text, section = posts[rng.randrange(len(rows))]
        posts.append((text + " " + rng.choice(by_section[section]), section))
    rng.shuffle(posts)
    return posts[:count]


async def seed(client: httpx.AsyncClient, candidates: int, ratings: int) -> list[str]:
    """Four channels with `candidates + ratings` real posts; the user rates `ratings` of
    them (likes the games, sound and science sections)."""
    posts = real_posts(candidates + ratings)
    now = datetime.now(UTC)
    usernames, ids = [], []
    for channel in range(4):
        telegram_id = -100_777_000 - channel
        username = f"benchrank{channel}"
        await client.post(
            "/api/v1/channels/", json={"telegram_id": telegram_id, "username": username, "title": username}
        )
        mine = posts[channel::4]
        for start in range(0, len(mine), 5000):
            response = await client.post(
                "/api/v1/posts/bulk",
                json={
                    "channel_telegram_id": telegram_id,
                    "posts": [
                        {"telegram_message_id": start + n + 1, "text": text, "media_type": "text",
                         "posted_at": (now - timedelta(minutes=start + n)).isoformat()}
                        for n, (text, _) in enumerate(mine[start : start + 5000])
                    ],
                },
            )
            response.raise_for_status()
            ids += response.json()["post_ids"]
        usernames.append(username)
    ordered = [post for channel in range(4) for post in posts[channel::4]]
    await client.post("/api/v1/users/", json={"telegram_id": USER, "username": "bench", "first_name": "B", "last_name": None})
    await client.post(
        "/api/v1/posts/training",
        json={"user_telegram_id": USER, "channel_usernames": usernames, "posts_per_channel": 1},
    )
    rng = random.Random(1)
    for index in rng.sample(range(len(ids)), ratings):
        kind = "like" if ordered[index][1] in LIKED else "dislike"
        await client.post(
            "/api/v1/posts/interactions",
            json={"user_telegram_id": USER, "post_id": ids[index], "interaction_type": kind},
        )
    return [text for text, _ in ordered]


TEXT = TextModel(encoder=load_encoder("static"))


def numpy_floor(texts: list[str], candidates: int, ratings: int, runs: int) -> dict[str, list[float]]:
    """The plain numpy baseline on in-memory arrays: a ridge fit (gram + solve) and a score
    (matvec + top 10), no graph, no duplicates."""
    vectors = TEXT.embed(texts[: candidates + ratings])
    rated, pool = vectors[:ratings].astype(np.float64), vectors[ratings:]
    targets = np.random.default_rng(0).integers(0, 2, ratings).astype(np.float64)

    def fit() -> np.ndarray:
        alpha = np.linalg.solve(rated @ rated.T + 0.3 * np.eye(ratings), targets - targets.mean())
        return (alpha @ rated).astype(np.float32)

    direction = fit()

    def best() -> np.ndarray:
        scores = pool @ direction
        top = np.argpartition(-scores, 10)[:10]
        return top[np.argsort(-scores[top])]

    return {"train": timed_sync(fit, runs), "best": timed_sync(best, runs)}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=10_000)
    parser.add_argument("--ratings", type=int, default=100)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    from ppb.compose.core import build_services
    from ppb.compose.web import http_app as build_app
    from ppb.config import load_settings
    from ppb.store.migrate import upgrade

    url = args.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='ppb-bench-')}/ppb.db"
    settings = load_settings(DATABASE_URL=url, PPB_API_KEY=KEY)
    await asyncio.to_thread(upgrade, settings.async_database_url)
    services = build_services(settings)
    app = build_app(settings, services)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://localhost", headers={"X-API-Key": KEY}
        ) as client:
            texts = await seed(client, args.candidates, args.ratings)
            user_id = await services.store.user_id(USER)
            embedded = await wait_embedded(settings, services.store)
            print(f"the embedding stage was done {embedded:.0f} s after seeding", flush=True)

            async def train() -> None:
                (await client.post("/api/v1/ml/train", json={"user_telegram_id": USER})).raise_for_status()

            async def best() -> None:
                response = await client.post("/api/v1/posts/best", json={"user_telegram_id": USER, "limit": 10})
                response.raise_for_status()

            cold_best = await timed(best, 1)  # fills this process's vector cache
            ours = {
                "train": await timed(train, max(20, args.runs // 4)),
                "best": await timed(best, args.runs),
                "scoring best": await timed(lambda: services.scoring.best(user_id, 10), args.runs),
            }
            page = [row["id"] for row, _ in await services.scoring.best(user_id, 10)]
            explained = iter(range(10**9))
            ours["scoring explain"] = await timed(
                lambda: services.scoring.explain(user_id, page[next(explained) % len(page)]), args.runs
            )

            async def explain() -> None:
                post_id = page[next(explained) % len(page)]
                response = await client.post("/api/v1/posts/explain", json={"user_telegram_id": USER, "post_id": post_id})
                response.raise_for_status()

            ours["explain"] = await timed(explain, args.runs)

            def a_post() -> int:
                return page[next(explained) % len(page)]

            ours["ranker explain"] = await timed(lambda: services.core.feed_ranker.explain(user_id, a_post()), args.runs)
            ours["core explain"] = await timed(lambda: services.core.explain(USER, a_post()), args.runs)
            ours["keep"] = await timed(lambda: services.store.record_explanation(user_id, a_post(), "text", "api"),
                                       args.runs)
            candidates = len((await services.store.candidate_posts(user_id, 100_000)))
    floor = numpy_floor(texts, args.candidates, args.ratings, args.runs)
    uncached = timed_sync(lambda: TEXT.embed(texts[: args.candidates]), 2)

    print(f"{candidates} candidate posts, {args.ratings} ratings, {TEXT.dimensions}-wide vectors, "
          f"{'SQLite' if url.startswith('sqlite') else 'PostgreSQL'}; times in ms")
    print(f"{'':34}{'p50':>9}{'p99':>9}{'numpy p50':>11}{'ratio':>8}")
    rows = [
        ("ml/train, 100 ratings (HTTP)", ours["train"], floor["train"]),
        ("posts/best, 10 of 10k (HTTP)", ours["best"], floor["best"]),
        ("Scoring.best (no HTTP)", ours["scoring best"], floor["best"]),
        ("posts/explain, a post of it (HTTP)", ours["explain"], floor["best"]),
        ("Scoring.explain (no HTTP)", ours["scoring explain"], floor["best"]),
    ]
    for name, times, base in rows:
        p50, base50 = percentile(times, 50), percentile(base, 50)
        print(f"{name:34}{p50:9.2f}{percentile(times, 99):9.2f}{base50:11.3f}{p50 / base50:8.1f}x")
    print(f"{'first posts/best (cold cache)':34}{cold_best[0]:9.1f}")
    print("keeping each explanation (the console's reason figures):")
    for name, key in (("FeedRanker.explain (not kept)", "ranker explain"), ("Core.explain (kept)", "core explain"),
                      ("the insert alone", "keep")):
        times = ours[key]
        share = percentile(times, 50) / percentile(ours["ranker explain"], 50)
        print(f"  {name:32}{percentile(times, 50):9.2f}{percentile(times, 99):9.2f}{share:11.2f}x of not kept")
    print(f"{'vectorizing every candidate':34}{percentile(uncached, 50):9.1f}   (what each call cost without the cache)")
    ours_rate = candidates / (percentile(ours["scoring best"], 50) / 1000)
    floor_rate = candidates / (percentile(floor["best"], 50) / 1000)
    print(f"scoring throughput per replica: {ours_rate:,.0f} posts/s (numpy floor {floor_rate:,.0f} posts/s, "
          f"ratio {floor_rate / ours_rate:.1f}x)")


if __name__ == "__main__":
    asyncio.run(main())
