"""The embedding stage: each post's rows made once, after it is stored, and kept.

Two parts of a post's row are made here: its sentence vector (the encoder's), and its n-gram
row under the current text model (word weights and latent components, estimated here from
the newest posts and kept in the store, estimated again when the corpus has doubled). A
Scorer replica then reads both and vectorizes nothing it finds stored.

Ingest (posts/bulk, the import, the scraper) only stores posts; the stage finds posts with
no vector of the current model and writes theirs. Nothing is queued anywhere but in the
posts table itself, so an embedder that dies loses nothing: it (or its restart) finds the
same posts still without a vector. Several embedders share the work by post id (`part` of
`parts`), each its own share, so they never embed a post twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ppb.ranking import CORPUS_SAMPLE, Encoder, TextModel, outgrown
from ppb.ranking.index import NEIGHBOUR_POOL
from ppb.ranking.propagation import nearest
from ppb.store.vectors import StoredTextModel, TextModelVersion, neighbours_model, ngram_model, pack_neighbours

log = logging.getLogger(__name__)

BATCH = 64
"""Posts embedded per call of the encoder (and per write)."""
IDLE_S = 2.0
"""How often an idle embedder looks for new posts (a wake looks at once): a new post has its
vector within about this, and an idle `ppb up` no longer reads the store twice a second."""
LINK_BATCH = 2048
"""Posts whose neighbours one pass finds (per channel among them, one product)."""
POOLS_KEPT = 8
"""Channels whose pools (the rows of their newest posts, about 13 MB each) one link pass
keeps, so posts of a channel found in later batches are linked without reading it again."""
NGRAM_BATCH = 256
"""Posts given their n-gram rows per call (and per write): cheap, about 0.5 ms a post."""
RESCAN_S = 60.0
"""How often a pass starts from the first id again instead of the last one embedded: a post
whose commit landed after a later id's (PostgreSQL sequences) is found then."""


class VectorStore(Protocol):
    """What the stage needs of the store (`ppb.store.vectors.VectorQueries`)."""

    async def unembedded_posts(
        self, model: str, after_id: int, limit: int, part: int = 0, parts: int = 1
    ) -> list[tuple[int, str]]: ...
    async def put_post_vectors(self, model: str, vectors: list[tuple[int, object]]) -> int: ...
    async def embedding_backlog(self, model: str, part: int = 0, parts: int = 1) -> int: ...
    async def text_model_versions(self) -> list[TextModelVersion]: ...
    async def text_model(self, version: int) -> StoredTextModel | None: ...
    async def put_text_model(self, documents: int, weights: np.ndarray, components: np.ndarray) -> int: ...
    async def text_model_ready(self, version: int) -> None: ...
    async def newest_post_id(self) -> int: ...
    async def unlinked_posts(
        self, model: str, needs: Sequence[str], after_id: int, limit: int, part: int = 0, parts: int = 1
    ) -> list[tuple[int, int]]: ...
    async def channel_pool(self, channel_id: int, needs: Sequence[str], limit: int) -> list[int]: ...
    async def post_vector_rows(
        self, widths: Mapping[str, int], post_ids: Sequence[int], blobs: Mapping[str, int] | None = None
    ) -> dict[str, tuple[np.ndarray, np.ndarray]]: ...
    async def recent_post_texts(self, limit: int) -> list[str]: ...


@dataclass(slots=True)
class EmbeddingReport:
    posts: int = 0
    seconds: float = 0.0


class Embedder:
    """One embedder's share of the posts: found, embedded in batches, stored. The first
    (`part` 0) also estimates the text model when it is due, and says when a version's
    n-gram rows are all made."""

    def __init__(self, store: VectorStore, encoder: Encoder, *, part: int = 0, parts: int = 1,
                 batch: int = BATCH) -> None:
        self._store = store
        self._encoder = encoder
        self._part, self._parts = part, parts
        self._batch = batch
        self._wake = asyncio.Event()
        self._stopping = False
        self._after = 0
        self._rescanned = time.monotonic()
        self.embedded = 0
        self._text: TextModel | None = None
        self._text_version: int | None = None
        self._text_ready = False
        self._ngram_after = 0
        self.ngram_rows = 0
        self._link_after = 0
        self.linked = 0

    @property
    def model(self) -> str:
        return self._encoder.name

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        """End `run` after the batch under way (never in the middle of a statement: a
        connection cancelled mid-query is not given back to its pool)."""
        self._stopping = True
        self._wake.set()

    async def backlog(self) -> int:
        """Posts of this share still waiting for their vector."""
        return await self._store.embedding_backlog(self.model, self._part, self._parts)

    async def catch_up(self) -> EmbeddingReport:
        """Make every post of this share that has no vector (or n-gram row) yet its own;
        returns how many sentence vectors were made."""
        report = EmbeddingReport()
        started = time.perf_counter()
        if time.monotonic() - self._rescanned >= RESCAN_S:
            self._after = self._ngram_after = self._link_after = 0
            self._rescanned = time.monotonic()
        await self._refresh_text_model()
        await self._make_ngram_rows()
        after_id = self._after
        while not self._stopping:
            found = await self._store.unembedded_posts(self.model, after_id, self._batch, self._part, self._parts)
            if not found:
                break
            vectors = await asyncio.to_thread(self._encoder.encode, [text for _, text in found])
            await self._store.put_post_vectors(self.model, [(post_id, vectors[n]) for n, (post_id, _) in enumerate(found)])
            report.posts += len(found)
            after_id = self._after = found[-1][0]
        await self._link_posts()
        report.seconds = time.perf_counter() - started
        self.embedded += report.posts
        return report

    async def _refresh_text_model(self) -> None:
        """Follow the newest stored text model; the first embedder estimates one when there
        is none or the corpus has outgrown it (`ppb.ranking.outgrown`, in post ids: the
        newest id is read off the index, cheap on every pass)."""
        versions = await self._store.text_model_versions()
        newest = versions[0] if versions else None
        if self._part == 0:
            corpus = await self._store.newest_post_id()
            if outgrown(newest.documents if newest else 0, corpus):
                texts = await self._store.recent_post_texts(CORPUS_SAMPLE)
                fitted = await asyncio.to_thread(TextModel.fit, texts)
                version = await self._store.put_text_model(max(len(texts), corpus), *fitted.arrays())
                log.info("text model %d estimated from %d posts", version, len(texts))
                newest = TextModelVersion(version, corpus, False)
        if newest is None:
            return
        if newest.version != self._text_version:
            stored = await self._store.text_model(newest.version)
            if stored is None:  # dropped meanwhile by a newer one: taken on the next pass
                return
            self._text = TextModel.from_arrays(stored.weights, stored.components, stored.documents, self._encoder)
            self._text_version, self._ngram_after, self._link_after = newest.version, 0, 0
        self._text_ready = newest.ready

    async def _make_ngram_rows(self) -> None:
        """N-gram rows of the current text model for this share's posts without one; the
        first embedder then marks the version ready once no post anywhere waits for one."""
        if self._text is None or self._text_version is None:
            return
        text, model = self._text, ngram_model(self._text_version)
        while not self._stopping:
            found = await self._store.unembedded_posts(model, self._ngram_after, NGRAM_BATCH, self._part, self._parts)
            if not found:
                break
            rows = await asyncio.to_thread(text.ngram_rows, [body for _, body in found])
            await self._store.put_post_vectors(model, [(post_id, rows[n]) for n, (post_id, _) in enumerate(found)])
            self.ngram_rows += len(found)
            self._ngram_after = found[-1][0]
        if self._part == 0 and not self._text_ready and not self._stopping:
            if await self._store.embedding_backlog(model) == 0:
                await self._store.text_model_ready(self._text_version)
                self._text_ready = True
                log.info("text model %d ready", self._text_version)

    async def _link_posts(self) -> None:
        """Each post of this share with both halves of its row stored gets its neighbours
        found and kept (`neighbours_model`): among its channel's newest `NEIGHBOUR_POOL`
        posts with both halves, over the rows a replica assembles, as a replica links a post
        when it caches its row. A cold replica then reads them instead of linking."""
        if self._text is None or self._text_version is None:
            return
        text, version = self._text, self._text_version
        model, ngrams = neighbours_model(version, self.model), ngram_model(version)
        needs = (self.model, ngrams)
        widths = {self.model: self._encoder.dimensions, ngrams: text.ngram_width}
        pools: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # a channel's pool, read once a pass
        while not self._stopping:
            found = await self._store.unlinked_posts(model, needs, self._link_after, LINK_BATCH, self._part, self._parts)
            if not found:
                break
            ids = np.asarray([post_id for post_id, _ in found], dtype=np.int64)
            channels = np.asarray([channel for _, channel in found], dtype=np.int64)
            for channel in np.unique(channels).tolist():
                mine = ids[channels == channel]
                if channel not in pools:
                    pool = np.asarray(await self._store.channel_pool(channel, needs, NEIGHBOUR_POOL), dtype=np.int64)
                    pools[channel] = (pool, await self._rows(text, ngrams, widths, pool))
                    while len(pools) > POOLS_KEPT:
                        pools.pop(next(iter(pools)))
                pool, pool_rows = pools[channel]
                outside = mine[~np.isin(mine, pool)]
                rows = np.concatenate([pool_rows, await self._rows(text, ngrams, widths, outside)])
                links = await asyncio.to_thread(_links, rows, len(pool), mine, np.concatenate([pool, outside]))
                await self._store.put_post_vectors(model, links)
                self.linked += len(links)
            self._link_after = int(ids[-1])

    async def _rows(self, text: TextModel, ngrams: str, widths: dict[str, int], ids: np.ndarray) -> np.ndarray:
        """The columns of these posts' rows that neighbours compare, assembled from both
        stored halves (the sentence vector and the `ngrams` row) as a replica assembles them;
        NaN where a half is missing (the post was deleted meanwhile: left for a later pass)."""
        found = await self._store.post_vector_rows(widths, ids.tolist())
        rows = text.assemble(found[ngrams][0], found[self.model][0])[:, text.model_columns]
        rows[~(found[self.model][1] & found[ngrams][1])] = np.nan
        return rows

    async def run(self, idle_s: float = IDLE_S) -> None:
        """Catch up until stopped; a failed pass (the database away) is tried again."""
        while not self._stopping:
            self._wake.clear()
            try:
                report = await self.catch_up()
                if report.posts:
                    log.info("embedded %d posts in %.2f s (%s)", report.posts, report.seconds, self.model)
            except Exception:
                log.exception("embedding pass failed")
            try:
                await asyncio.wait_for(self._wake.wait(), idle_s)
            except TimeoutError:
                pass


def _links(rows: np.ndarray, pooled: int, mine: np.ndarray, wanted: np.ndarray) -> list[tuple[int, bytes]]:
    """Neighbours of the posts `mine` (each among `wanted`, whose first `pooled` are the
    pool) as stored, from the rows of `wanted` (NaN: a half missing): the neighbours a
    replica would find (`ppb.ranking.nearest`, as `PostIndex` links)."""
    whole = ~np.isnan(rows[:, 0])
    pool = np.nonzero(whole[:pooled])[0]
    where = {post_id: n for n, post_id in enumerate(wanted.tolist())}
    at = np.asarray([where[post_id] for post_id in mine.tolist()], dtype=np.int64)
    at = at[whole[at]]
    in_pool = {n: k for k, n in enumerate(pool.tolist())}
    own = np.asarray([in_pool.get(n, -1) for n in at.tolist()], dtype=np.int64)
    positions, weights = nearest(rows[at], rows[pool], own)
    found = np.where(positions >= 0, wanted[pool][np.maximum(positions, 0)], -1)
    return [(int(wanted[n]), pack_neighbours(found[k], weights[k])) for k, n in enumerate(at.tolist())]
