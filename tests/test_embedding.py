"""The embedding stage: every post's sentence vector made once after it is stored and kept
in the store (both backends), shared out between embedders by id; a Scorer ranks a post not
embedded yet by its n-grams and takes its vector once stored; live delivery waits for it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ppb.actors.delivery import Deliverer
from ppb.config import load_settings
from ppb.core.delivery import ArrivalReport, Caps
from ppb.core.embedding import Embedder
from ppb.core.scoring import Scoring
from ppb.domain.interactions import InteractionType
from ppb.ranking import TextModel, load_encoder
from ppb.store.migrate import upgrade
from ppb.store.queries import NewPost, Store
from ppb.store.vectors import neighbours_model, ngram_model

TEXTS = [
    "The striker scored twice and the home team won the football derby",
    "Stocks fell as bond yields climbed and investors sold shares",
    "A new comet is visible after sunset in the western sky",
    "The recipe needs flour, butter, two eggs and a pinch of salt",
]


class CountingEncoder:
    """An encoder that records what it was asked to embed (a unit vector per text)."""

    dimensions = 8

    def __init__(self, name: str) -> None:
        self.name = name
        self.texts: list[str] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.texts.extend(texts)
        vectors = np.ones((len(texts), self.dimensions), dtype=np.float32)
        return vectors / np.sqrt(self.dimensions)


def _text(n: int, tag: int) -> str:
    """A distinct post (copies of one story would be shown once): words drawn per post."""
    words = np.random.default_rng(n).choice(VOCABULARY, 12)
    return f"{TEXTS[n % len(TEXTS)]}: {' '.join(words)} ({tag})"


VOCABULARY = np.array(
    "river mountain engine violin harbour tractor glacier orchid pepper lantern canyon meteor "
    "cobalt falcon saddle bamboo quartz marble ferry walnut compass velvet thunder meadow".split()
)


async def _posts(store: Store, new_id, count: int, *, minutes_ago: int = 0) -> list[int]:
    tag = new_id()
    channel = await store.upsert_channel(-(10**12) - tag, f"emb{tag}", "Embedded")
    now = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    posts = [NewPost(n + 1, _text(n, tag), "text", now - timedelta(seconds=n)) for n in range(count)]
    _, ids = await store.add_posts(channel["id"], posts)
    return ids


async def test_each_post_is_embedded_once_and_its_vector_kept(store: Store, new_id) -> None:
    ids = await _posts(store, new_id, 12)
    encoder = load_encoder("static")
    embedder = Embedder(store, encoder)
    await embedder.catch_up()
    stored = await store.post_vectors(encoder.name, ids)
    assert sorted(stored) == sorted(ids)
    expected = encoder.encode(list((await store.post_texts(ids[:1])).values()))[0]
    np.testing.assert_allclose(stored[ids[0]], expected, atol=2e-3)  # float16 as stored
    assert (await embedder.catch_up()).posts == 0, "nothing is embedded twice"
    assert await store.post_vectors("another-model", ids) == {}, "vectors are kept per model"


async def test_embedders_share_the_posts_by_id_and_never_embed_one_twice(store: Store, new_id) -> None:
    ids = await _posts(store, new_id, 20)
    model = f"counting-{new_id()}"
    first, second = CountingEncoder(model), CountingEncoder(model)
    await Embedder(store, first, part=0, parts=2).catch_up()
    await Embedder(store, second, part=1, parts=2).catch_up()
    stored = await store.post_vectors(model, ids)
    assert sorted(stored) == sorted(ids)
    texts = {row_id: text for row_id, text in (await store.post_texts(ids)).items()}
    mine = [texts[i] for i in ids]
    assert not set(first.texts) & set(second.texts) & set(mine)
    assert sorted(t for t in first.texts + second.texts if t in mine) == sorted(mine)


async def test_a_post_not_embedded_yet_ranks_and_takes_its_vector_once_stored(store: Store, new_id) -> None:
    ids = await _posts(store, new_id, 16)
    user, _ = await store.upsert_user(10**9 + new_id(), None, "E", None)
    channel_id = (await store.feed_posts(ids[:1]))[0]["channel_id"]
    await store.link_channels(user["id"], [channel_id], for_training=True)
    await store.rate(user["telegram_id"], ids[0], InteractionType.LIKE)
    await store.rate(user["telegram_id"], ids[1], InteractionType.DISLIKE)
    scoring = Scoring(store, embeddings="static", complete_every_s=0.0)
    await store.forget_post_vectors(ids)
    page = await scoring.best(int(user["id"]), 5)
    assert len(page) == 5, "ranked by what the posts have"
    assert scoring.stats()["waiting_for_vectors"] >= 14
    await Embedder(store, load_encoder("static")).catch_up()
    page = await scoring.best(int(user["id"]), 5)
    assert len(page) == 5
    assert scoring.stats()["waiting_for_vectors"] == 0, "the stored vectors were taken"


async def test_live_delivery_scores_a_post_once_it_has_its_vector(store: Store, new_id) -> None:
    handed: list[int] = []

    async def record(store_: Store, scorer, post_ids, caps, now):  # type: ignore[no-untyped-def]
        handed.extend(post_ids)
        return ArrivalReport(posts=len(post_ids))

    model = f"delivery-{new_id()}"

    class NoScores:
        async def score_arrivals(self, user_ids: list[int], post_ids: list[int]) -> dict:
            return {}

    deliverer = Deliverer(store, NoScores(), Caps(), arrive=record, vector_model=model)
    ids = await _posts(store, new_id, 3)
    await deliverer.arrivals()
    assert not set(handed) & set(ids), "no vector yet: not scored"
    await store.put_post_vectors(model, [(ids[0], np.ones(8, dtype=np.float32))])
    await deliverer.arrivals()
    assert set(handed) & set(ids) == {ids[0]}, "scored once its vector is there, once"
    await deliverer.arrivals()
    assert handed.count(ids[0]) == 1


async def test_an_edited_post_is_embedded_again_from_its_new_text(store: Store, new_id) -> None:
    ids = await _posts(store, new_id, 2)
    encoder = CountingEncoder(f"edits-{new_id()}")
    embedder = Embedder(store, encoder)
    await embedder.catch_up()
    assert sorted(await store.post_vectors(encoder.name, ids)) == sorted(ids)
    row = (await store.feed_posts(ids[:1]))[0]
    edited = NewPost(int(row["telegram_message_id"]), "An entirely new text about violins", "text", row["posted_at"])
    assert await store.edit_posts(int(row["channel_id"]), [(edited, datetime.now(UTC))]) == [ids[0]]
    assert sorted(await store.post_vectors(encoder.name, ids)) == [ids[1]], "the old text's vector is gone"
    encoder.texts.clear()
    await Embedder(store, encoder).catch_up()
    assert "An entirely new text about violins" in encoder.texts
    assert sorted(await store.post_vectors(encoder.name, ids)) == sorted(ids)


async def test_a_running_scorer_ranks_an_edited_post_by_its_new_text(store: Store, new_id) -> None:
    """The edit drops the post's vectors, the stage makes them again, and a Scorer that had
    the old text's row cached makes the row again: a post edited into a copy of one the
    person rated is now left out as that story told again (with the old row it was not)."""
    ids = await _posts(store, new_id, 12)
    user, _ = await store.upsert_user(10**9 + new_id(), None, "E", None)
    channel_id = int((await store.feed_posts(ids[:1]))[0]["channel_id"])
    await store.link_channels(user["id"], [channel_id], for_training=True)
    await store.rate(user["telegram_id"], ids[0], InteractionType.LIKE)
    await store.rate(user["telegram_id"], ids[1], InteractionType.DISLIKE)
    encoder = load_encoder("static")
    await Embedder(store, encoder).catch_up()
    scoring = Scoring(store, embeddings="static", complete_every_s=0.0)
    edited_id = ids[-1]
    before = [row["id"] for row, _ in await scoring.best(int(user["id"]), 20)]
    assert edited_id in before
    liked = (await store.feed_posts(ids[:1]))[0]
    row = (await store.feed_posts([edited_id]))[0]
    copy = NewPost(int(row["telegram_message_id"]), liked["text"], "text", row["posted_at"])
    assert await store.edit_posts(channel_id, [(copy, datetime.now(UTC))]) == [edited_id]
    await Embedder(store, encoder).catch_up()
    after = [row["id"] for row, _ in await scoring.best(int(user["id"]), 20)]
    assert edited_id not in after, "the edited post is ranked by its new text"
    assert set(after) == set(before) - {edited_id}


class _TextReads:
    """The store, recording which posts' texts were read (a replica that vectorizes reads them)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.asked: set[int] = set()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def post_texts(self, post_ids: Sequence[int]) -> dict[int, str]:
        self.asked.update(post_ids)
        return await self._store.post_texts(post_ids)


@pytest.fixture
async def fresh_store(tmp_path: Path) -> AsyncIterator[Store]:
    """A store of its own (the corpus size decides when the text model is estimated again)."""
    url = load_settings(DATABASE_URL=f"sqlite:///{tmp_path / 'text-models.db'}").async_database_url
    await asyncio.to_thread(upgrade, url)
    fresh = Store(url)
    await fresh.connect()
    try:
        yield fresh
    finally:
        await fresh.disconnect()


async def test_the_stage_keeps_a_text_model_and_each_posts_ngram_row(store: Store, new_id) -> None:
    ids = await _posts(store, new_id, 12)
    await Embedder(store, CountingEncoder(f"counting-{new_id()}")).catch_up()
    newest = (await store.text_model_versions())[0]
    assert newest.ready, "every post has its n-gram row of the newest model"
    rows = await store.post_vectors(ngram_model(newest.version), ids)
    assert sorted(rows) == sorted(ids)
    kept = await store.text_model(newest.version)
    assert kept is not None
    text = TextModel.from_arrays(kept.weights, kept.components, kept.documents)
    expected = text.ngram_rows(list((await store.post_texts(ids[:1])).values()))[0]
    np.testing.assert_allclose(rows[ids[0]], expected, atol=2e-3)  # float16 as stored


async def test_a_cold_scorer_reads_stored_rows_and_vectorizes_no_post(store: Store, new_id) -> None:
    ids = await _posts(store, new_id, 16)
    user, _ = await store.upsert_user(10**9 + new_id(), None, "C", None)
    channel_id = (await store.feed_posts(ids[:1]))[0]["channel_id"]
    await store.link_channels(user["id"], [channel_id], for_training=True)
    await store.rate(user["telegram_id"], ids[0], InteractionType.LIKE)
    await store.rate(user["telegram_id"], ids[1], InteractionType.DISLIKE)
    await Embedder(store, load_encoder("static")).catch_up()
    reading = _TextReads(store)
    scoring = Scoring(reading, embeddings="static")  # type: ignore[arg-type]
    page = await scoring.best(int(user["id"]), 5)
    assert len(page) == 5
    assert scoring.stats()["text_model"] == (await store.text_model_versions())[0].version
    assert not reading.asked & set(ids), "no text of a stored post was read to make its row"
    assert scoring.stats()["waiting_for_vectors"] == 0


async def test_the_text_model_is_estimated_again_when_the_corpus_doubles(fresh_store: Store, new_id) -> None:
    ids = await _posts(fresh_store, new_id, 10)
    embedder = Embedder(fresh_store, CountingEncoder("counting"))
    await embedder.catch_up()
    [first] = await fresh_store.text_model_versions()
    assert first.ready and first.documents == 10
    user, _ = await fresh_store.upsert_user(10**9 + new_id(), None, "D", None)
    channel_id = (await fresh_store.feed_posts(ids[:1]))[0]["channel_id"]
    await fresh_store.link_channels(user["id"], [channel_id], for_training=True)
    scoring = Scoring(fresh_store, embeddings="static", complete_every_s=0.0)
    assert len(await scoring.best(int(user["id"]), 5)) == 5
    assert scoring.stats()["text_model"] == first.version

    more = await _posts(fresh_store, new_id, 15)  # 25 posts: more than twice what it counted
    await embedder.catch_up()
    [second] = await fresh_store.text_model_versions()
    assert second.version > first.version and second.ready and second.documents == 25
    assert await fresh_store.post_vectors(ngram_model(first.version), ids) == {}, "the old rows are dropped"
    assert await fresh_store.post_vectors(neighbours_model(first.version, "counting"), ids) == {}, "their links too"
    linked = await fresh_store.post_vectors(neighbours_model(second.version, "counting"), ids + more)
    assert sorted(linked) == sorted(ids + more), "every post linked again over the new rows"
    assert sorted(await fresh_store.post_vectors(ngram_model(second.version), ids + more)) == sorted(ids + more)
    assert len(await scoring.best(int(user["id"]), 5)) == 5
    assert scoring.stats()["text_model"] == second.version, "a running replica follows the new model"


async def test_a_text_model_is_ready_only_once_every_share_has_its_rows(fresh_store: Store, new_id) -> None:
    ids = await _posts(fresh_store, new_id, 12)
    first = Embedder(fresh_store, CountingEncoder("counting"), part=0, parts=2)
    second = Embedder(fresh_store, CountingEncoder("counting"), part=1, parts=2)
    await second.catch_up()
    assert await fresh_store.text_model_versions() == [], "only the first embedder estimates one"
    await first.catch_up()
    [version] = await fresh_store.text_model_versions()
    assert not version.ready, "the second share has no rows yet"
    await second.catch_up()
    await first.catch_up()
    [version] = await fresh_store.text_model_versions()
    assert version.ready
    assert sorted(await fresh_store.post_vectors(ngram_model(version.version), ids)) == sorted(ids)


class _NoStoredNeighbours:
    """The store as a replica saw it before the stage kept neighbours: every replica links."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def post_vector_rows(self, widths: Any, post_ids: Sequence[int], blobs: Any = None) -> Any:
        return await self._store.post_vector_rows(widths, post_ids)


async def _linked_replica(store: Any, user_id: int) -> tuple[list[tuple[int, float]], dict[int, list[int]], int]:
    """A cold replica's first page (ids and scores), its candidates' neighbours by post id,
    and how many times it compared rows to find neighbours."""
    import ppb.ranking.index as index_module

    calls = 0
    real = index_module.nearest

    def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        return real(*args, **kwargs)

    index_module.nearest = counting
    try:
        scoring = Scoring(store, embeddings="static")
        page = await scoring.best(user_id, 8)
    finally:
        index_module.nearest = real
    index = scoring._corpus.index
    slots = np.arange(len(index))
    found = index._neighbours.data[: len(index) * 10].reshape(-1, 10)
    ids = index.ids(slots)
    neighbours = {int(ids[s]): sorted(int(ids[n]) for n in found[s] if n >= 0) for s in slots.tolist()
                  if not len(index.missing_vectors(np.array([s])))}
    return [(row["id"], score) for row, score in page], neighbours, calls


async def test_a_cold_scorer_reads_each_posts_neighbours_and_ranks_the_page_it_would_link(
    store: Store, new_id, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ppb.core.embedding.LINK_BATCH", 16)  # several passes over each channel's pool
    channels = []
    ids: list[int] = []
    for _ in range(2):
        mine = await _posts(store, new_id, 40)
        ids += mine
        channels.append((await store.feed_posts(mine[:1]))[0]["channel_id"])
    user, _ = await store.upsert_user(10**9 + new_id(), None, "N", None)
    await store.link_channels(user["id"], channels, for_training=True)
    for n, post_id in enumerate(ids[::7]):
        await store.rate(user["telegram_id"], post_id, InteractionType.LIKE if n % 2 else InteractionType.DISLIKE)
    embedder = Embedder(store, load_encoder("static"))
    await embedder.catch_up()
    assert embedder.linked >= len(ids), "the stage found every post's neighbours"
    reading, reading_neighbours, reading_links = await _linked_replica(store, int(user["id"]))
    linking, linking_neighbours, linking_links = await _linked_replica(_NoStoredNeighbours(store), int(user["id"]))
    assert {i: reading_neighbours[i] for i in ids} == {i: linking_neighbours[i] for i in ids}
    assert [i for i, _ in reading] == [i for i, _ in linking], "the same page"
    np.testing.assert_allclose([s for _, s in reading], [s for _, s in linking], atol=1e-4)  # ranked moments apart
    assert linking_links > 0 and reading_links == 0, "the reading replica linked nothing"
    assert (await embedder.catch_up()).posts == 0 and embedder.linked >= len(ids)
