"""The exploration slot keeps a feed open: a person who has liked only one topic still sees
another topic on every page, page after page of ratings; without the slot the same person's
page closes into that topic. Over the real store, both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from ppb.core.scoring import Scoring
from ppb.domain.interactions import InteractionType
from ppb.ranking.model import DEFAULT_PARAMS, Params
from ppb.store.queries import NewPost, Store

TOPICS = ("football match goal striker", "stock market shares bank", "rocket launch orbit moon",
          "guitar concert album band")
POSTS = 200
PAGES = 3


def _text(n: int) -> str:
    """A post of topic n % 4 with ten made-up words of its own: alike posts, never one story."""
    rng = np.random.default_rng(n)
    words = ["".join(rng.choice(list("bcdfghklmnprstvz"), 3)) + "".join(rng.choice(list("aeiou"), 2)) for _ in range(10)]
    return f"{TOPICS[n % 4]} {' '.join(words)}"


async def _pages(
    store: Store, new_id, params: Params, disliked_topic: int | None = None, channels: int = 1
) -> list[list[int]]:
    """The topics of each page a person reads who likes football and nothing else, rating
    every page they see (football liked, the rest disliked) before the next. Each channel
    writes on all four topics."""
    now = datetime.now(UTC)
    topic: dict[int, int] = {}
    first: list[int] = []
    channel_ids = []
    for k in range(channels):
        channel = await store.upsert_channel(-(10**12) - new_id(), None, f"One of four {k}")
        start = k * POSTS
        news = [NewPost(n + 1, _text(start + n), "text", now - timedelta(minutes=n)) for n in range(POSTS)]
        _, ids = await store.add_posts(channel["id"], news)
        topic.update({post_id: (start + n) % 4 for n, post_id in enumerate(ids)})
        first += ids[0:24:4] + (ids[disliked_topic:24:4] if disliked_topic is not None else [])
        channel_ids.append(channel["id"])
    user, _ = await store.upsert_user(10**9 + new_id(), None, "One", None)
    await store.link_channels(user["id"], channel_ids, for_training=True)
    scoring = Scoring(store, params=params)
    pages: list[list[int]] = []
    rated = first
    for _ in range(PAGES):
        for post_id in rated:
            kind = InteractionType.LIKE if topic[post_id] == 0 else InteractionType.DISLIKE
            await store.rate(user["telegram_id"], post_id, kind)
        page = [row["id"] for row, _ in await scoring.best(int(user["id"]), 10)]
        assert len(page) == 10
        pages.append([topic[post_id] for post_id in page])
        rated = page
    return pages


async def test_a_person_who_liked_one_topic_sees_another_on_every_page(store: Store, new_id) -> None:
    """In one channel, or told by two (the page then spans two channels of one topic: one
    region, so the slot stays), with or without a topic disliked."""
    for disliked, channels in ((None, 1), (1, 1), (None, 2)):
        pages = await _pages(store, new_id, DEFAULT_PARAMS, disliked, channels)
        assert all(set(page) - {0} for page in pages), f"{disliked} {channels} {pages}"
        assert all(page.count(0) >= 8 for page in pages), f"{disliked} {channels} {pages}"  # the taste leads


async def test_without_the_slot_that_person_s_page_closes_into_one_topic(store: Store, new_id) -> None:
    """What the first test guards against: with no exploration the page is all football."""
    for channels in (1, 2):
        pages = await _pages(store, new_id, Params(exploration=0.0), channels=channels)
        assert any(set(page) == {0} for page in pages), f"{channels} {pages}"
