"""How well the feed matches hidden tastes: simulated people rate through the REST API.

Each simulated user has a hidden taste over the generated corpus (`ppb.ranking.corpus`),
rates the training posts (`posts/training`, `posts/interactions`), trains (`ml/train`),
reads a page (`posts/best`), rates that page, trains and reads again. Precision@10 and
NDCG@10 of each page are printed side by side with what a random pick and the channel
prior (each channel's like rate from the same user's ratings) would have shown.

    python bench/ranking_eval.py [--posts-per-channel 150] [--users 16] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import statistics
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ppb.ranking import corpus as generated  # noqa: E402

PAGE = 10
STAGES = ("after training", "after one page")
METHODS = ("random", "channel prior", "model")


@dataclass(slots=True)
class Uploaded:
    """The corpus as stored: post ids and what each post is."""

    usernames: list[str]
    posts: dict[int, generated.Post]
    channel_of: dict[int, int]


@dataclass(slots=True)
class Scores:
    """Per stage and method, the precision@10 and NDCG@10 of each user's page."""

    precision: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    ndcg: dict[tuple[str, str], list[float]] = field(default_factory=dict)

    def add(self, stage: str, method: str, page: list[int], relevant: set[int]) -> None:
        hits = [1.0 if post in relevant else 0.0 for post in page[:PAGE]]
        ideal = min(PAGE, len(relevant))
        dcg = sum(hit / math.log2(rank + 2) for rank, hit in enumerate(hits))
        best = sum(1 / math.log2(rank + 2) for rank in range(ideal)) or 1.0
        self.precision.setdefault((stage, method), []).append(sum(hits) / PAGE)
        self.ndcg.setdefault((stage, method), []).append(dcg / best)

    def mean(self, stage: str, method: str) -> tuple[float, float]:
        return (
            statistics.fmean(self.precision[(stage, method)]),
            statistics.fmean(self.ndcg[(stage, method)]),
        )


async def upload(client: httpx.AsyncClient, corpus: generated.Corpus, new_id: Callable[[], int]) -> Uploaded:
    """Create the channels and their posts through the API."""
    now = datetime.now(UTC)
    usernames, posts, channel_of = [], {}, {}
    for channel in corpus.channels:
        telegram_id = -(10**12) - new_id()
        username = f"eval{abs(telegram_id)}"
        response = await client.post(
            "/api/v1/channels/", json={"telegram_id": telegram_id, "username": username, "title": channel.title}
        )
        response.raise_for_status()
        mine = [post for post in corpus.posts if post.channel == channel.index]
        body = {
            "channel_telegram_id": telegram_id,
            "posts": [
                {
                    "telegram_message_id": post.message_id,
                    "text": post.text,
                    "media_type": "text",
                    "posted_at": (now - timedelta(hours=post.age_hours)).isoformat(),
                }
                for post in mine
            ],
        }
        response = await client.post("/api/v1/posts/bulk", json=body)
        response.raise_for_status()
        for post, post_id in zip(mine, response.json()["post_ids"]):
            posts[post_id] = post
            channel_of[post_id] = channel.index
        usernames.append(username)
    return Uploaded(usernames, posts, channel_of)


async def simulate(
    client: httpx.AsyncClient,
    uploaded: Uploaded,
    taste: frozenset[int],
    telegram_id: int,
    scores: Scores,
    *,
    posts_per_channel: int = 7,
    seed: int = 0,
) -> None:
    """One person: train on the training posts, read and rate a page, read again."""
    rng = random.Random(seed)
    ratings: dict[int, str] = {}

    async def rate(post_ids: list[int]) -> None:
        for post_id in post_ids:
            liked = generated.likes(taste, uploaded.posts[post_id])
            kind = "like" if liked else ("skip" if rng.random() < 0.3 else "dislike")
            response = await client.post(
                "/api/v1/posts/interactions",
                json={"user_telegram_id": telegram_id, "post_id": post_id, "interaction_type": kind},
            )
            response.raise_for_status()
            ratings[post_id] = kind

    async def train_and_read() -> list[int]:
        response = await client.post("/api/v1/ml/train", json={"user_telegram_id": telegram_id})
        response.raise_for_status()
        assert response.json()["success"], response.json()
        response = await client.post(
            "/api/v1/posts/best", json={"user_telegram_id": telegram_id, "limit": PAGE}
        )
        response.raise_for_status()
        return [post["id"] for post in response.json()["posts"]]

    response = await client.post(
        "/api/v1/users/",
        json={"telegram_id": telegram_id, "username": f"sim{telegram_id}", "first_name": "Sim", "last_name": None},
    )
    response.raise_for_status()
    response = await client.post(
        "/api/v1/posts/training",
        json={
            "user_telegram_id": telegram_id,
            "channel_usernames": uploaded.usernames,
            "posts_per_channel": posts_per_channel,
        },
    )
    response.raise_for_status()
    await rate([post["id"] for post in response.json()["posts"]])
    for stage in STAGES:
        page = await train_and_read()
        unrated = [post_id for post_id in uploaded.posts if post_id not in ratings]
        relevant = {post_id for post_id in unrated if generated.likes(taste, uploaded.posts[post_id])}
        scores.add(stage, "model", page, relevant)
        scores.add(stage, "random", rng.sample(unrated, min(PAGE, len(unrated))), relevant)
        scores.add(stage, "channel prior", _channel_prior(uploaded, ratings, unrated, rng), relevant)
        if stage == STAGES[0]:
            await rate(page)


def _channel_prior(
    uploaded: Uploaded, ratings: dict[int, str], unrated: list[int], rng: random.Random
) -> list[int]:
    """The page a per-channel like rate picks: the best channel's posts, newest first."""
    likes: dict[int, list[float]] = {}
    for post_id, kind in ratings.items():
        likes.setdefault(uploaded.channel_of[post_id], []).append(1.0 if kind == "like" else 0.0)
    rate = {channel: statistics.fmean(values) for channel, values in likes.items()}
    tie = {channel: rng.random() for channel in set(uploaded.channel_of.values())}
    ordered = sorted(
        unrated,
        key=lambda p: (
            -rate.get(uploaded.channel_of[p], 0.5),
            tie[uploaded.channel_of[p]],
            uploaded.posts[p].age_hours,
        ),
    )
    return ordered[:PAGE]


async def evaluate(
    client: httpx.AsyncClient, new_id: Callable[[], int], *, posts_per_channel: int, users: int
) -> Scores:
    """Upload a corpus and run `users` simulated people over it, one after another."""
    uploaded = await upload(client, generated.generate(posts_per_channel), new_id)
    tastes = generated.preferences()
    scores = Scores()
    for n in range(users):
        await simulate(client, uploaded, tastes[n % len(tastes)], 10**9 + new_id(), scores, seed=n)
    return scores


def table(scores: Scores) -> str:
    lines = [f"{'':16}" + "".join(f"{method:>26}" for method in METHODS)]
    lines.append(f"{'':16}" + "".join(f"{'precision@10  NDCG@10':>26}" for _ in METHODS))
    for stage in STAGES:
        cells = []
        for method in METHODS:
            precision, ndcg = scores.mean(stage, method)
            cells.append(f"{precision:>17.3f}{ndcg:>9.3f}")
        lines.append(f"{stage:16}" + "".join(cells))
    return "\n".join(lines)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts-per-channel", type=int, default=150)
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()

    from ppb.config import load_settings
    from ppb.http.app import build_app
    from ppb.store.migrate import upgrade

    url = args.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='ppb-eval-')}/ppb.db"
    settings = load_settings(DATABASE_URL=url, PPB_API_KEY="eval-key")
    await asyncio.to_thread(upgrade, settings.async_database_url)
    app = build_app(settings)
    ids = iter(range(random.Random().randrange(10**6) * 1000, 10**12))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://ppb.eval", headers={"X-API-Key": "eval-key"}
        ) as client:
            scores = await evaluate(
                client, lambda: next(ids), posts_per_channel=args.posts_per_channel, users=args.users
            )
    print(
        f"{args.users} simulated users, {4 * args.posts_per_channel} posts in 4 channels "
        f"that each mix 4 topics; {PAGE} posts a page"
    )
    print(table(scores))


if __name__ == "__main__":
    asyncio.run(main())
