"""Whether a person's own steering moves the feed as they would expect: the simulated people
of `bench/ranking_eval.py` (same channels, tastes and noisy ratings) train, then read a page
as trained and with one dial or must-see word set (cleared again after), each page scored
against their hidden taste (precision@10 over the posts they have not rated).

    more, liked channel      "more" on the channel with the largest share of posts they like: up or level
    less, unliked channel    "less" on the channel with the smallest share: up or level
    never, unliked channel   "never" on that channel: up or level, and none of its posts on the page
    less, liked channel      "less" on the channel they like best: down (they asked for less of it)
    must-see word            a word of their liked sections that is rare elsewhere: up or level

    python bench/ranking_steering.py [--slice en] [--seeds 3] [--users 6]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import sys
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ranking_eval import (  # noqa: E402
    DISLIKE_SKIPS,
    LIKE_SKIPS,
    NOISE,
    PAGE,
    SLICES,
    Post,
    Scores,
    corpus,
    draw,
    run_app,
    table,
    tastes,
    upload,
)

AS_TRAINED = "as trained"
SETTINGS = ("more, liked channel", "less, unliked channel", "never, unliked channel", "less, liked channel",
            "must-see word")
STAGES = (AS_TRAINED, *SETTINGS)
_WORD = re.compile(r"\w{4,}")


@dataclass(slots=True)
class Steering:
    """Precision per setting, and what the page showed that the setting forbids or puts first."""

    scores: Scores = field(default_factory=Scores)
    never_shown: int = 0  # posts of a channel on "never" that a page still showed
    must_pages: int = 0  # pages read with a must-see word that some unrated post holds
    must_first: int = 0  # of those, pages that open with such a post
    dialled: dict[str, list[int]] = field(default_factory=dict)
    """Per setting: posts of the dialled channel on the pages as trained, then under the dial."""


def must_see_word(posts: Sequence[Post], unrated: Sequence[int], taste: frozenset[str]) -> str | None:
    """A word common in the liked sections' unrated posts and rare in the others' (what a
    person who likes them might ask to always see), or None."""
    liked: Counter[str] = Counter()
    other: Counter[str] = Counter()
    for n in unrated:
        words = {word.casefold() for word in _WORD.findall(posts[n].text)}
        (liked if posts[n].section in taste else other).update(words)
    ranked = sorted(liked, key=lambda word: (liked[word] - 3 * other[word], word), reverse=True)
    return ranked[0] if ranked and liked[ranked[0]] >= 3 and liked[ranked[0]] > 3 * other[ranked[0]] else None


async def steer(
    client: httpx.AsyncClient,
    posts: list[Post],
    usernames: list[str],
    index_of: dict[int, int],
    taste: frozenset[str],
    telegram_id: int,
    result: Steering,
    *,
    seed: int,
    person: int,
) -> None:
    """One person: train on the training posts, then read a page under each setting."""
    rated: set[int] = set()

    def kind_of(n: int) -> str:  # as `bench.ranking_eval.simulate` rates
        rng = random.Random(f"{seed}/{person}/{n}")
        liked = (posts[n].section in taste) != (rng.random() < NOISE)
        if liked:
            return "skip" if rng.random() < LIKE_SKIPS else "like"
        return "skip" if rng.random() < DISLIKE_SKIPS else "dislike"

    async def call(method: str, path: str, body: dict[str, Any]) -> Any:
        response = await client.request(method, path, json=body)
        response.raise_for_status()
        return response.json()

    await call("POST", "/api/v1/users/", {"telegram_id": telegram_id, "username": f"steer{telegram_id}", "first_name": "Sim"})
    training = await call("POST", "/api/v1/posts/training",
                          {"user_telegram_id": telegram_id, "channel_usernames": usernames, "posts_per_channel": 7})
    for post in training["posts"]:
        await call("POST", "/api/v1/posts/interactions", {
            "user_telegram_id": telegram_id, "post_id": post["id"], "interaction_type": kind_of(index_of[post["id"]])})
        rated.add(index_of[post["id"]])
    await call("POST", "/api/v1/ml/train", {"user_telegram_id": telegram_id})
    unrated = [n for n in range(len(posts)) if n not in rated]
    relevant = {n for n in unrated if posts[n].section in taste}
    share = {channel: sum(posts[n].section in taste for n in range(len(posts)) if posts[n].channel == channel)
             / max(1, sum(post.channel == channel for post in posts)) for channel in range(len(usernames))}
    liked_channel, unliked_channel = max(share, key=share.__getitem__), min(share, key=share.__getitem__)
    word = must_see_word(posts, unrated, taste)
    rules = f"/api/v1/users/{telegram_id}/rules"

    async def page() -> list[int]:
        best = await call("POST", "/api/v1/posts/best", {"user_telegram_id": telegram_id, "limit": PAGE})
        return [index_of[post["id"]] for post in best["posts"]]

    trained = await page()
    result.scores.add(seed, AS_TRAINED, "PPB", trained, relevant)
    for stage, dial, channel in ((SETTINGS[0], "more", liked_channel), (SETTINGS[1], "less", unliked_channel),
                                 (SETTINGS[2], "never", unliked_channel), (SETTINGS[3], "less", liked_channel)):
        await call("PATCH", rules, {"channel_dials": {usernames[channel]: dial}})
        shown = await page()
        result.scores.add(seed, stage, "PPB", shown, relevant)
        counts = result.dialled.setdefault(stage, [0, 0])
        counts[0] += sum(posts[n].channel == channel for n in trained)
        counts[1] += sum(posts[n].channel == channel for n in shown)
        if dial == "never":
            result.never_shown += sum(posts[n].channel == channel for n in shown)
        await call("PATCH", rules, {"channel_dials": {usernames[channel]: "normal"}})
    if word is None:
        return
    await call("PATCH", rules, {"must_words": [word]})
    shown = await page()
    result.scores.add(seed, SETTINGS[4], "PPB", shown, relevant)
    holds = [word in {w.casefold() for w in _WORD.findall(posts[n].text)} for n in unrated]
    if any(holds):
        result.must_pages += 1
        result.must_first += int(bool(shown) and word in {w.casefold() for w in _WORD.findall(posts[shown[0]].text)})
    await call("PATCH", rules, {"must_words": []})


async def evaluate_steering(
    client: httpx.AsyncClient,
    new_id: Callable[[], int],
    shape: Any,
    seeds: Sequence[int],
    users: int,
    *,
    rows: Sequence[dict[str, Any]] | None = None,
    settle: Callable[[], Awaitable[Any]] | None = None,
) -> Steering:
    """For each seed, a fresh draw of channels and `users` people steering over it."""
    rows = corpus(shape) if rows is None else rows
    result = Steering()
    for seed in seeds:
        posts = draw(shape, seed, rows)
        usernames, index_of = await upload(client, posts, new_id)
        if settle is not None:
            await settle()
        for person, taste in enumerate(tastes(shape, seed, users)):
            await steer(client, posts, usernames, index_of, taste, 10**9 + new_id(), result, seed=seed, person=person)
    return result


def report(result: Steering) -> str:
    lines = [table(result.scores, STAGES[:3]), table(result.scores, STAGES[3:])]
    lines.append(f"posts of a channel on never shown: {result.never_shown}; pages opening with a must-see "
                 f"post: {result.must_first} of {result.must_pages}")
    lines += [f"posts of the dialled channel, {stage}: {before} as trained, {after} under the dial"
              for stage, (before, after) in result.dialled.items()]
    return "\n".join(lines)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slice", choices=list(SLICES), default="en")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--users", type=int, default=6)
    parser.add_argument("--embeddings", default="use", help="PPB_EMBEDDINGS of the PPB run")
    args = parser.parse_args()
    shape = SLICES[args.slice]
    ids = iter(range(random.Random().randrange(10**6) * 1000, 10**12))

    async def work(client: httpx.AsyncClient, settle: Callable[[], Awaitable[Any]]) -> Steering:
        return await evaluate_steering(client, lambda: next(ids), shape, range(args.seeds), args.users, settle=settle)

    result = await run_app({"PPB_EMBEDDINGS": args.embeddings}, work)
    print(f"{args.slice}: {shape.name}: {args.seeds} seeds x {args.users} people who like {shape.liked} sections")
    print(report(result), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
