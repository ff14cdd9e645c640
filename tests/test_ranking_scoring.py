"""The per-process caches behind ranking: the post index and its vector ring (pure), and
Scoring over the real store on both backends (new posts, every rating, a cold replica)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from ppb.core import corpus as corpus_module
from ppb.core.scoring import Scoring
from ppb.domain.interactions import InteractionType
from ppb.ranking import PostIndex
from ppb.ranking import features as features_module
from ppb.ranking.features import TextModel
from ppb.store.queries import NewPost, Store

DIMENSIONS = 64

SPORT = [
    "Football: the striker scored twice and the home team won the football derby",
    "Football transfer news: the football club signs a young goalkeeper",
    "Football league table: three football teams level on points after the derby",
]
MARKETS = [
    "Markets: stocks fell as bond yields climbed and investors sold shares in the markets",
    "Markets wait as the central bank keeps rates unchanged; stocks and markets flat",
    "Markets rally: shares of banks lead the stock index and the markets higher",
]


def _unit(rows: int, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(rows, DIMENSIONS)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_candidates_are_the_newest_of_the_channels_asked_minus_the_excluded() -> None:
    index = PostIndex(capacity=1000, dimensions=DIMENSIONS)
    index.add([1, 2, 3, 4, 5], [10, 10, 20, 10, 30], [100.0, 500.0, 900.0, 300.0, 50.0])
    index.add([2, 6], [10, 10], [500.0, 700.0])  # a known id is not added twice
    slots = index.candidates([10, 20], exclude=[4], limit=3)
    assert sorted(index.ids(slots).tolist()) == [2, 3, 6]
    assert len(index) == 6 and index.max_id == 6


def test_the_vector_ring_keeps_the_newest_and_scores_like_a_plain_product() -> None:
    index = PostIndex(capacity=1000, dimensions=DIMENSIONS)
    index.add(list(range(1, 1501)), [1] * 1500, [float(n) for n in range(1500)])
    all_slots = index.slots(list(range(1, 1501)))
    vectors = _unit(1500)
    index.put_vectors(all_slots[:1000], vectors[:1000])
    index.put_vectors(all_slots[1000:], vectors[1000:])  # overwrites the 500 oldest
    assert len(index.missing_vectors(all_slots)) == 500
    assert index.missing_vectors(all_slots).tolist() == all_slots[:500].tolist()
    direction = _unit(1, seed=1)[0]
    kept = all_slots[500:]
    np.testing.assert_allclose(index.dot(kept, direction), vectors[500:] @ direction, rtol=1e-5)
    scattered = kept[::7]  # a sparse spread of rows: gathered, not scanned
    np.testing.assert_allclose(index.dot(scattered, direction), vectors[500:][::7] @ direction, rtol=1e-5)
    index.new_generation()
    assert len(index.missing_vectors(all_slots)) == 1500


def test_vectors_put_again_stay_cached_when_the_ring_wraps() -> None:
    """Requests that vectorize the same posts at once each put them: the rows a post held
    before are its no longer, and the ring wrapping over them must not evict its current
    vector (it did, and every later ranking re-embedded its candidates)."""
    index = PostIndex(capacity=1000, dimensions=DIMENSIONS)
    index.add(list(range(1, 401)), [1] * 400, [float(n) for n in range(400)])
    slots = index.slots(list(range(1, 401)))
    vectors = _unit(400)
    for _ in range(4):  # 1,600 rows written into 1,000: the ring wraps over the first puts
        index.put_vectors(slots, vectors)
    assert len(index.missing_vectors(slots)) == 0
    direction = _unit(1, seed=2)[0]
    np.testing.assert_allclose(index.dot(slots, direction), vectors @ direction, rtol=1e-5)
    index.add(list(range(401, 1001)), [1] * 600, [float(n) for n in range(400, 1000)])
    others = index.slots(list(range(401, 1001)))
    index.put_vectors(others, _unit(600, seed=3))  # fills the rest of the ring: the 400 stay
    assert len(index.missing_vectors(slots)) == 0 and len(index.missing_vectors(others)) == 0


async def _seed(store: Store, new_id) -> tuple[int, int, list[int]]:
    channel = await store.upsert_channel(-(10**12) - new_id(), None, "Mixed")
    user, _ = await store.upsert_user(10**9 + new_id(), None, "S", None)
    now = datetime.now(UTC)
    posts = [NewPost(n + 1, text, "text", now - timedelta(hours=n)) for n, text in enumerate(SPORT + MARKETS)]
    _, ids = await store.add_posts(channel["id"], posts)
    await store.link_channels(user["id"], [channel["id"]], for_training=True)
    return user["telegram_id"], user["id"], ids


async def test_every_rating_changes_the_feed_without_training(store: Store, new_id) -> None:
    telegram_id, user_id, ids = await _seed(store, new_id)
    sport, markets = ids[:3], ids[3:]
    scoring = Scoring(store)
    await store.rate(telegram_id, sport[0], InteractionType.LIKE)
    await store.rate(telegram_id, markets[0], InteractionType.DISLIKE)
    first = [row["id"] for row, _ in await scoring.best(user_id, 4)]
    assert set(first[:2]) == set(sport[1:]), first
    await store.rate(telegram_id, sport[0], InteractionType.DISLIKE)  # replaces the like
    await store.rate(telegram_id, markets[0], InteractionType.LIKE)
    then = [row["id"] for row, _ in await scoring.best(user_id, 4)]
    assert set(then[:2]) == set(markets[1:]), then


async def test_a_cold_process_ranks_as_a_warm_one_and_new_posts_show_at_once(store: Store, new_id) -> None:
    telegram_id, user_id, ids = await _seed(store, new_id)
    await store.rate(telegram_id, ids[0], InteractionType.LIKE)
    await store.rate(telegram_id, ids[3], InteractionType.DISLIKE)
    warm = Scoring(store)
    await warm.train(user_id)
    before = await warm.best(user_id, 10)
    cold = await Scoring(store).best(user_id, 10)
    # the same page; scores within a hair: a post is linked to its neighbours among the
    # posts vectorized by then, and the warm process vectorized the rated posts first
    assert [row["id"] for row, _ in before] == [row["id"] for row, _ in cold]
    assert [score for _, score in before] == pytest.approx([score for _, score in cold], abs=5e-3)
    assert warm.stats()["models"] == 1

    channel_id = before[0][0]["channel_id"]
    story = "Football derby tonight: the striker and the goalkeeper face the football league leaders"
    _, (new_post,) = await store.add_posts(
        channel_id, [NewPost(99, story, "text", datetime.now(UTC))]
    )
    after = await warm.best(user_id, 10)
    assert new_post in [row["id"] for row, _ in after]
    assert all(row["id"] not in (ids[0], ids[3]) for row, _ in after)


def test_each_post_is_linked_to_its_nearest_posts_of_the_same_channel() -> None:
    index = PostIndex(capacity=1000, dimensions=DIMENSIONS)
    index.add(list(range(1, 61)), [1] * 30 + [2] * 30, [float(n) for n in range(60)])
    slots = index.slots(list(range(1, 61)))
    centres = _unit(2, seed=3)
    rng = np.random.default_rng(4)
    vectors = centres[np.arange(60) % 2] + 0.05 * rng.normal(size=(60, DIMENSIONS))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    index.put_vectors(slots, vectors, slice(0, DIMENSIONS))
    neighbours, weights = index.neighbours_within(slots)
    for node in range(60):
        linked = neighbours[node][neighbours[node] >= 0]
        assert len(linked) == 10 and node not in linked
        assert set((linked // 30).tolist()) == {node // 30}, "never across channels"
        assert set((linked % 2).tolist()) == {node % 2}, "the nearest are the same kind"
    assert (weights > 0.7).all()
    local, _ = index.neighbours_within(slots[:30])
    assert local.max() < 30


TOPICS = [
    "football striker derby goalkeeper league club",
    "markets stocks bonds yields bank rates",
    "recipes sourdough bread oven flour yeast",
    "space rocket orbit engines launch satellite",
]
WORDS = ("amber basalt cobalt dune ember fjord glacier harbor island jungle kelp lagoon meadow nectar "
         "orchard prairie quarry reef savanna tundra valley willow yarrow zephyr alpine breeze canyon "
         "delta estuary forest grove heath inlet knoll marsh").split()


def _text(n: int) -> str:
    """A post of topic n % 4 in words of its own (no two are copies of one story)."""
    words = np.random.default_rng(n).choice(WORDS, 8, replace=False)
    return f"{TOPICS[n % 4]} {' '.join(words)} number {n}"


async def _channel_of(store: Store, new_id, count: int) -> tuple[int, list[int]]:
    channel = await store.upsert_channel(-(10**12) - new_id(), None, "Batch")
    now = datetime.now(UTC)
    posts = [NewPost(n + 1, _text(n), "text", now - timedelta(minutes=n)) for n in range(count)]
    _, ids = await store.add_posts(channel["id"], posts)
    return channel["id"], ids


async def _reader(store: Store, new_id, channel_id: int, liked: list[int], disliked: list[int]) -> int:
    user, _ = await store.upsert_user(10**9 + new_id(), None, "B", None)
    await store.link_channels(user["id"], [channel_id], for_training=True)
    for post_id in liked:
        await store.rate(user["telegram_id"], post_id, InteractionType.LIKE)
    for post_id in disliked:
        await store.rate(user["telegram_id"], post_id, InteractionType.DISLIKE)
    return int(user["id"])


async def test_a_batch_gives_each_user_the_page_they_get_alone(store: Store, new_id) -> None:
    """Users of one channel are ranked together (one graph, one spreading product): each
    still gets the very page, scores and all, that ranking them alone gives."""
    channel_id, ids = await _channel_of(store, new_id, 48)
    users = [
        await _reader(store, new_id, channel_id, ids[k : k + 8 : 4], ids[k + 1 : k + 9 : 4])
        for k in range(0, 32, 4)  # 8 users: enough to be spread in one product
    ]
    users.append(await _reader(store, new_id, channel_id, [], []))  # nothing learned yet
    other_channel, other_ids = await _channel_of(store, new_id, 20)
    users.append(await _reader(store, new_id, other_channel, other_ids[:1], other_ids[1:2]))
    scoring = Scoring(store)
    together = await scoring.best_many([(user_id, 10) for user_id in users])
    alone = [await scoring.best(user_id, 10) for user_id in users]
    reversed_batch = (await scoring.best_many([(user_id, 10) for user_id in users[::-1]]))[::-1]
    def ids_of(ranked: list[tuple[Any, float]]) -> list[int]:
        return [row["id"] for row, _ in ranked]

    def scores_of(ranked: list[tuple[Any, float]]) -> Any:
        return pytest.approx([score for _, score in ranked], abs=1e-6)  # recency moves with the clock

    assert [len(page) for page in alone] == [10] * len(alone)
    for batch in (together, reversed_batch):
        assert [ids_of(page) for page in batch] == [ids_of(page) for page in alone]
        assert [[score for _, score in page] for page in batch] == [scores_of(page) for page in alone]
    assert len({tuple(ids_of(page)) for page in alone[:8]}) > 1, "the users' own ratings show"


async def test_requests_at_a_cold_process_embed_each_post_once(store: Store, new_id, monkeypatch) -> None:
    """Rankings under way together at a cold replica (Scorer batches, nudger passes: each its
    own `best_many`) used to embed the same candidates once each (16 at once: 30 s instead
    of 6); they now wait for one another's vectors."""
    channel_id, ids = await _channel_of(store, new_id, 40)
    users = [await _reader(store, new_id, channel_id, ids[k : k + 1], ids[k + 1 : k + 2]) for k in range(0, 12, 2)]
    embedded: list[str] = []
    real_rows = TextModel.ngram_rows

    def counting_rows(self: TextModel, texts: Sequence[str]) -> np.ndarray:
        embedded.extend(texts)
        return real_rows(self, texts)

    monkeypatch.setattr(TextModel, "ngram_rows", counting_rows)
    scoring = Scoring(store)
    await scoring.sync()
    batches = await asyncio.gather(*(scoring.best_many([(user_id, 10)]) for user_id in users))
    pages = [page for (page,) in batches]
    assert all(len(page) == 10 for page in pages)
    assert len(embedded) == len(set(embedded)), "no post was embedded twice"
    assert len(embedded) == len(ids)


class _RefitWhileReading:
    """The store, where reading the candidates' texts lets another request's catch-up run
    first, once: new posts arrive and the text model is re-estimated (every vector made
    before is discarded) while this ranking embeds the texts it read."""

    def __init__(self, store: Store, candidate: int, arrive: Callable[[], Awaitable[None]]) -> None:
        self._store = store
        self._candidate = candidate
        self._arrive: Callable[[], Awaitable[None]] | None = arrive

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def text_model_versions(self) -> list[Any]:
        return []  # no text model kept by an embedding stage: the process estimates its own

    async def post_texts(self, post_ids: Sequence[int]) -> dict[int, str]:
        found = await self._store.post_texts(post_ids)
        if self._arrive is not None and self._candidate in post_ids:
            arrive, self._arrive = self._arrive, None
            await arrive()
        return found


async def test_a_text_model_refit_during_ranking_leaves_no_page_empty(store: Store, new_id, monkeypatch) -> None:
    """A catch-up that re-estimates the text model while a ranking embeds its candidates
    (another request of the same process) used to leave every candidate without a vector
    of the current model, and the page empty; the ranking is now prepared again."""
    monkeypatch.setattr(features_module, "CORPUS_GROWTH", 1.0)  # every new post re-estimates it
    monkeypatch.setattr(corpus_module, "CORPUS_SAMPLE", 300)
    telegram_id, user_id, ids = await _seed(store, new_id)
    await store.rate(telegram_id, ids[0], InteractionType.LIKE)
    await store.rate(telegram_id, ids[3], InteractionType.DISLIKE)
    elsewhere, _ = await _channel_of(store, new_id, 1)
    scoring: Scoring

    async def arrive() -> None:
        await store.add_posts(elsewhere, [NewPost(1000 + new_id() % 1000, "Breaking: a new post arrives", "text",
                                                  datetime.now(UTC))])
        await scoring.sync()

    scoring = Scoring(_RefitWhileReading(store, ids[1], arrive))  # type: ignore[arg-type]
    await scoring.sync()
    generation = scoring.stats()["generation"]
    page = await scoring.best(user_id, 10)
    assert scoring.stats()["generation"] == generation + 1, "the text model was re-estimated meanwhile"
    assert sorted(row["id"] for row, _ in page) == sorted(set(ids) - {ids[0], ids[3]})


async def test_a_story_told_in_several_channels_is_shown_once_saying_where_else(store: Store, new_id) -> None:
    """Near-duplicates are collapsed into the post shown, which lists the other channels (one
    entry each, linked to the copy); rating it keeps every copy away."""
    story = "Launch day: the new rocket reached orbit at dawn and the crew is safe, the agency said"
    now = datetime.now(UTC)
    channels = []
    for n in range(3):
        channel = await store.upsert_channel(-(10**12) - new_id(), f"story{new_id()}", f"Story {n}")
        texts = [story + "!" * n, *(SPORT if n == 0 else MARKETS if n == 1 else [])]
        await store.add_posts(channel["id"], [NewPost(k + 1, text, "text", now - timedelta(minutes=n * 10 + k))
                                              for k, text in enumerate(texts)])
        channels.append(channel)
    user, _ = await store.upsert_user(10**9 + new_id(), None, "S", None)
    await store.link_channels(user["id"], [channel["id"] for channel in channels], for_training=True)
    scoring = Scoring(store)
    fresh = [row for row, _ in await scoring.best(user["id"], 20)]  # nothing rated yet
    assert len([row for row in fresh if row["text"].startswith("Launch day")]) == 1
    sport = [row["id"] for row in fresh if row["text"] in SPORT]
    await store.rate(user["telegram_id"], sport[0], InteractionType.LIKE)  # a model with rated posts
    page = [row for row, _ in await scoring.best(user["id"], 20)]
    shown = [row for row in page if row["text"].startswith("Launch day")]
    assert len(shown) == 1, [row["text"] for row in page]
    others = {channel["id"]: channel for channel in channels if channel["id"] != shown[0]["channel_id"]}
    assert sorted(entry["channel_title"] for entry in shown[0]["also_in"]) == sorted(c["title"] for c in others.values())
    assert all(entry["url"] == f"https://t.me/{entry['channel_username']}/1" for entry in shown[0]["also_in"])
    assert all(row["also_in"] == [] for row in page if row is not shown[0])

    await store.rate(user["telegram_id"], shown[0]["id"], InteractionType.LIKE)
    after = [row for row, _ in await scoring.best(user["id"], 20)]
    assert not [row for row in after if row["text"].startswith("Launch day")], "rating it rated the story"
