"""Training posts span a channel: a channel whose newest posts are all on one of its two topics
still has the other topic among the posts to rate; posts without a stored vector fall back to
the newest. The choice itself (`ppb.ranking.span`) on plain arrays, then over the real store,
both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from ppb.core.training import WINDOW, training_posts
from ppb.domain.interactions import InteractionType
from ppb.ranking.span import spanning
from ppb.store.queries import NewPost, Store

MODEL = "test-span"
"""A vector model of this test's own: no embedding stage makes its vectors."""
PER_CHANNEL = 7
NEWEST_ON_ONE = 14
"""The channel's newest posts, all on its first topic (twice what is asked for)."""


def _vectors(topics: list[int], seed: int = 0) -> np.ndarray:
    """Unit vectors near one of two orthogonal directions, one per topic."""
    rng = np.random.default_rng(seed)
    rows = np.zeros((len(topics), 16), dtype=np.float32)
    rows[np.arange(len(topics)), topics] = 1.0
    rows += rng.normal(0, 0.15, rows.shape).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def _topics() -> list[int]:
    """A window's topics, newest first: the newest all on topic 0, then both in turn."""
    return [0] * NEWEST_ON_ONE + [n % 2 for n in range(PER_CHANNEL * WINDOW - NEWEST_ON_ONE)]


def test_a_window_whose_newest_are_one_topic_gives_posts_of_both() -> None:
    topics = _topics()
    chosen = spanning(_vectors(topics), np.ones(len(topics), dtype=bool), PER_CHANNEL)
    assert chosen == sorted(chosen) and len(set(chosen)) == PER_CHANNEL
    assert 2 <= sum(topics[n] for n in chosen) <= 5  # both topics (the newest 7 are all topic 0)
    assert chosen != list(range(PER_CHANNEL))  # not simply the newest


def test_posts_without_vectors_are_taken_newest_first_only_when_too_few_have_one() -> None:
    topics = _topics()
    none = np.zeros(len(topics), dtype=bool)
    assert spanning(_vectors(topics), none, PER_CHANNEL) == list(range(PER_CHANNEL))
    some = none.copy()
    some[[20, 30, 40]] = True
    assert spanning(_vectors(topics), some, PER_CHANNEL) == [0, 1, 2, 3, 20, 30, 40]
    assert spanning(_vectors(topics[:5]), none[:5], PER_CHANNEL) == [0, 1, 2, 3, 4]  # fewer than asked


async def _channel(store: Store, new_id, topics: list[int]) -> tuple[int, list[int]]:
    """A channel whose posts have these topics, newest first; returns its id and post ids in that order."""
    now = datetime.now(UTC)
    channel = await store.upsert_channel(-(10**12) - new_id(), None, "Two topics")
    words = ("football match goal striker", "rocket launch orbit moon")
    news = [NewPost(n + 1, f"{words[topic]} {n}", "text", now - timedelta(minutes=n)) for n, topic in enumerate(topics)]
    _, ids = await store.add_posts(channel["id"], news)
    return int(channel["id"]), ids


async def test_a_channel_whose_newest_posts_are_one_topic_is_trained_on_both(store: Store, new_id) -> None:
    topics = _topics() + [0] * 20  # older posts beyond the window, never chosen
    channel_id, ids = await _channel(store, new_id, topics)
    await store.put_post_vectors(MODEL, list(zip(ids, _vectors(topics), strict=True)))
    user, _ = await store.upsert_user(10**9 + new_id(), None, "Two", None)
    rows = await training_posts(store, [channel_id], PER_CHANNEL, int(user["id"]), MODEL)
    position = {post_id: n for n, post_id in enumerate(ids)}
    chosen = [position[row["id"]] for row in rows]
    assert len(chosen) == PER_CHANNEL and chosen == sorted(chosen)  # newest first, as shown
    assert max(chosen) < PER_CHANNEL * WINDOW
    assert {topics[n] for n in chosen} == {0, 1}
    assert sum(topics[n] for n in chosen) >= 2  # the topic the newest posts miss, more than once


async def test_a_channel_without_vectors_trains_on_its_newest_posts(store: Store, new_id) -> None:
    topics = _topics()
    channel_id, ids = await _channel(store, new_id, topics)
    user, _ = await store.upsert_user(10**9 + new_id(), None, "Fresh", None)
    rows = await training_posts(store, [channel_id], PER_CHANNEL, int(user["id"]), MODEL)
    assert [row["id"] for row in rows] == ids[:PER_CHANNEL]
    rows = await training_posts(store, [channel_id], PER_CHANNEL, int(user["id"]), None)  # no encoder
    assert [row["id"] for row in rows] == ids[:PER_CHANNEL]


async def test_each_channel_gives_its_newest_unrated_posts_in_the_order_the_channels_were_asked(
        store: Store, new_id) -> None:
    """The window a training picks from: per channel, newest first, as many as asked, the
    person's rated posts and deleted posts left out, the channels in the order given."""
    first, first_ids = await _channel(store, new_id, [0] * 30)
    second, second_ids = await _channel(store, new_id, [1] * 3)
    user, _ = await store.upsert_user(10**9 + new_id(), None, "Window", None)
    await store.rate(int(user["telegram_id"]), first_ids[0], InteractionType.LIKE)
    await store.delete_posts(second, [2])  # the second channel's second newest (message 2)

    rows = await store.latest_posts([second, first, second], 4, unrated_by=int(user["id"]))
    assert [row["id"] for row in rows] == [second_ids[0], second_ids[2], *first_ids[1:5]]
    assert {row["channel_id"] for row in rows} == {first, second}
    everyone = await store.latest_posts([first], 2)
    assert [row["id"] for row in everyone] == first_ids[:2]
    assert everyone[0]["channel_telegram_id"] is not None and "text" in everyone[0]


async def test_more_channels_than_one_statement_reads_are_read_in_turn(store: Store, new_id) -> None:
    from ppb.store.posts import CHANNELS_A_STATEMENT

    made = [await _channel(store, new_id, [0, 1]) for _ in range(CHANNELS_A_STATEMENT + 2)]
    rows = await store.latest_posts([channel for channel, _ in made], 1)
    assert [row["id"] for row in rows] == [ids[0] for _, ids in made]
