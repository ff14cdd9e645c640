"""This process's copy of the corpus, rebuilt from the store on a miss: each post's channel
and time (caught up by id), the text model in use, and each post's row (its sentence part
and neighbours read from where the embedding stage stored them, its n-grams made here when
the stage has not), so any process can rank any user's candidates."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np

from ppb.ranking import CORPUS_SAMPLE, PostIndex, TextModel, load_encoder, outgrown
from ppb.ranking.features import Encoder
from ppb.ranking.index import StoredNeighbours
from ppb.ranking.propagation import K
from ppb.store.queries import Row, Store, as_utc
from ppb.store.vectors import NEIGHBOUR_BYTES, neighbours_model, ngram_model, unpack_neighbours

SYNC_BATCH = 20_000
GAP_WINDOW = 1_000
GAP_TTL_S = 30.0
"""Ids missing below the newest one seen are asked for again for this long: a concurrent
insert may commit after a later one (PostgreSQL sequences), or never (a conflict)."""
COMPLETE_EVERY_S = 1.0
"""How often posts ranked without their sentence vector look for it in the store again, and
the store is asked for vectors made again (edited posts)."""
EDIT_OVERLAP = timedelta(seconds=5)
"""How far back each look for vectors made again reaches past the previous one (a vector
written just before that look may commit after it)."""


class Corpus:
    """The posts this process ranks over and their rows (`index`), under one lock.

    `lock` guards the index between the loop and worker threads: rankings hold it for their
    whole run; the loop takes it only to add or change what the index holds.
    """

    def __init__(
        self, store: Store, *, vector_cache: int = 100_000, embeddings: str = "use",
        complete_every_s: float = COMPLETE_EVERY_S,
    ) -> None:
        self._store = store
        self.encoder: Encoder | None = load_encoder(embeddings)
        self.text = TextModel(encoder=self.encoder)
        self.index = PostIndex(vector_cache, self.text.dimensions)
        self.lock = threading.Lock()
        self._sync_lock = asyncio.Lock()
        self._text_lock = asyncio.Lock()
        self._embed_lock = asyncio.Lock()
        self._gaps: dict[int, float] = {}
        self._completed_at = 0.0
        self._complete_every_s = complete_every_s
        self._edits_since = datetime.now(UTC)
        self._edits_checked_at = 0.0
        self.text_version: int | None = None
        """The stored text model in use (None: estimated here, while the store has none)."""
        self._text_checked_at = -complete_every_s
        self._text_checked_posts = 0

    async def sync(self, also_ids: list[int] | None = None) -> None:
        """Learn of posts stored since the last call (and of `also_ids`)."""
        async with self._sync_lock:
            now = time.monotonic()
            self._gaps = {i: t for i, t in self._gaps.items() if now - t < GAP_TTL_S}
            extra = sorted(set(self._gaps) | set(also_ids or ()))[-GAP_WINDOW:]
            while True:
                previous = self.index.max_id
                rows = await self._store.post_keys(previous, extra, SYNC_BATCH)
                ids = [int(row["id"]) for row in rows]
                if ids:  # the lock only when there is something to add: a ranking may hold it
                    with self.lock:
                        self.index.add(
                            ids,
                            [int(row["channel_id"]) for row in rows],
                            [as_utc(row["posted_at"]).timestamp() for row in rows],
                        )
                for post_id in ids:
                    self._gaps.pop(post_id, None)
                newer = set(ids) - set(extra)
                if newer:
                    top = max(newer)
                    for missing in range(max(previous + 1, top - GAP_WINDOW), top):
                        if missing not in newer:
                            self._gaps.setdefault(missing, now)
                if len(rows) < SYNC_BATCH:
                    break
                extra = []
        await self._follow_edits()
        await self._refresh_text_model()

    async def _follow_edits(self) -> None:
        """Posts whose vector was made again (their text was edited) lose their cached rows,
        made again from the new text on their next use; looked for at most every
        `complete_every_s`."""
        if self.encoder is None or time.monotonic() - self._edits_checked_at < self._complete_every_s:
            return
        self._edits_checked_at = time.monotonic()
        since, self._edits_since = self._edits_since, datetime.now(UTC) - EDIT_OVERLAP
        remade = await self._store.vectors_made_since(self.encoder.name, since)
        if not remade:
            return
        with self.lock:
            slots = self.index.slots(remade)
            cached = slots[~np.isin(slots, self.index.missing_vectors(slots))]
            edited = cached[~np.isin(cached, self.index.incomplete_vectors(cached))]  # complete before
            if len(edited):
                self.index.invalidate(edited)

    async def _refresh_text_model(self) -> None:
        """The text model the embedding stage keeps (its newest ready version, looked for
        at most every `complete_every_s`); while the store has none, one estimated here
        when the corpus has outgrown the one in use."""
        if await self._follow_stored_text_model():
            return
        if not self._text_stale():
            return
        async with self._text_lock:
            if not self._text_stale():
                return
            texts = await self._store.recent_post_texts(CORPUS_SAMPLE)
            if not texts:
                return
            text = await asyncio.to_thread(TextModel.fit, texts, self.encoder)
            # count the whole corpus, so the next estimate waits for it to double
            text = replace(text, idf=replace(text.idf, documents=max(len(texts), len(self.index))))
            with self.lock:
                self.text = text
                self.index.new_generation()

    async def _follow_stored_text_model(self) -> bool:
        """Switch to the store's newest ready text model (the newest at all while none is
        ready) when it is not the one in use; False while the store has none. Looked for
        when new posts were seen, else at most every `complete_every_s`."""
        grown = len(self.index) != self._text_checked_posts  # new posts: maybe a new model at once
        if not grown and time.monotonic() - self._text_checked_at < self._complete_every_s:
            return self.text_version is not None
        self._text_checked_at, self._text_checked_posts = time.monotonic(), len(self.index)
        versions = await self._store.text_model_versions()
        if not versions:
            return False
        chosen = next((v for v in versions if v.ready), versions[0])
        if chosen.version == self.text_version:
            return True
        async with self._text_lock:
            stored = await self._store.text_model(chosen.version)
            if stored is None:  # dropped meanwhile by a newer one: followed on a later look
                return self.text_version is not None
            text = TextModel.from_arrays(stored.weights, stored.components, stored.documents, self.encoder)
            with self.lock:
                self.text, self.text_version = text, chosen.version
                self.index.new_generation()
        return True

    def _text_stale(self) -> bool:
        return outgrown(self.text.documents, len(self.index))

    async def vectors(self, slots: np.ndarray) -> tuple[np.ndarray, TextModel, int]:
        """The vectors of `slots`, the text model they were made with and its generation."""
        while True:
            await self.ensure_vectors(slots)
            with self.lock:
                if not len(self.index.missing_vectors(slots)):  # else the model just changed
                    return self.index.vectors(slots), self.text, self.index.generation

    async def ensure_missing(self, parts: list[np.ndarray]) -> None:
        """`ensure_vectors` over several sets of slots (the posts of many users: the same
        posts mostly, so those missing are found per set before they are merged).

        Looked for without the lock: a vector being put meanwhile is made twice at worst,
        and one discarded meanwhile is found missing by the ranking, which retries."""
        missing = [self.index.missing_vectors(part) for part in parts if len(part)]
        missing = [part for part in missing if len(part)]
        if missing:
            await self.ensure_vectors(np.unique(np.concatenate(missing)))
        elif self.encoder is not None and time.monotonic() - self._completed_at >= self._complete_every_s:
            waiting = [self.index.incomplete_vectors(part) for part in parts if len(part)]
            waiting = [part for part in waiting if len(part)]
            if waiting:
                await self.ensure_vectors(np.unique(np.concatenate(waiting)))

    async def ensure_vectors(self, slots: np.ndarray) -> None:
        """Vectorize (once per process) the posts among `slots` with no cached vector.

        One vectorization at a time: requests arriving together at a cold replica wait for
        the first one's vectors instead of each embedding the same posts again."""
        async with self._embed_lock:
            await self._embed_missing(slots)

    async def _embed_missing(self, slots: np.ndarray) -> None:
        """Rows for the posts with none, read from the store where the embedding stage made
        them (sentence vectors, and n-gram rows of the text model in use); the n-grams of
        the rest made here. A post not embedded yet ranks by its n-grams until its sentence
        vector is stored (never made here)."""
        with self.lock:
            missing = self.index.missing_vectors(slots)
            generation, text, version = self.index.generation, self.text, self.text_version
        if len(missing):
            ids = self.index.ids(missing).tolist()
            ngrams = ngram_model(version) if version is not None else None
            widths = {self.encoder.name: self.encoder.dimensions} if self.encoder else {}
            widths.update({ngrams: text.ngram_width} if ngrams is not None else {})
            linked = neighbours_model(version, self.encoder.name) if self.encoder and version is not None else None
            blobs = {linked: K * NEIGHBOUR_BYTES} if linked is not None else None
            found = await self._store.post_vector_rows(widths, ids, blobs) if widths else {}
            semantic, embedded = found.get(self.encoder.name, (None, None)) if self.encoder else (None, None)
            self._completed_at = time.monotonic()  # the store was just asked: no second look yet
            empty = (np.zeros((len(ids), text.ngram_width), np.float32), np.zeros(len(ids), bool))
            stored, made = found.get(ngrams, empty) if ngrams is not None else empty
            unmade = [i for i, ok in zip(ids, made.tolist(), strict=True) if not ok]
            texts = await self._store.post_texts(unmade) if unmade else {}
            vectors = await asyncio.to_thread(
                text.rows_from, stored, made, [texts.get(i, "") for i in unmade], semantic
            )
            absent = None if embedded is None else ~embedded
            stored_links = None
            if linked in found:
                blob, has = found[linked]
                stored_links = StoredNeighbours(has & made, *unpack_neighbours(blob))
            await asyncio.to_thread(
                self._put_vectors, generation, missing, vectors, text.model_columns, absent, stored_links
            )
            gone = [i for i in unmade if i not in texts]
            if gone:
                self.forget(gone)
        await self._complete(slots)

    async def _complete(self, slots: np.ndarray) -> None:
        """Posts ranked so far without their sentence vector get it once it is stored
        (looked for at most every `complete_every_s`)."""
        if self.encoder is None or time.monotonic() - self._completed_at < self._complete_every_s:
            return
        self._completed_at = time.monotonic()
        with self.lock:
            waiting = self.index.incomplete_vectors(slots)
            generation, text = self.index.generation, self.text
        if not len(waiting):
            return
        ids = self.index.ids(waiting).tolist()
        found = await self._store.post_vector_rows({self.encoder.name: self.encoder.dimensions}, ids)
        semantic, embedded = found[self.encoder.name]
        absent = ~embedded
        if absent.all():
            return
        with self.lock:
            if self.index.generation != generation:
                return
            arrived = waiting[~absent]
            rows = text.with_semantic(self.index.vectors(arrived), semantic[~absent])
        await asyncio.to_thread(self._complete_vectors, generation, arrived, rows, text.model_columns)

    def _complete_vectors(self, generation: int, slots: np.ndarray, rows: np.ndarray, columns: slice) -> None:
        with self.lock:
            if self.index.generation == generation and not len(self.index.missing_vectors(slots)):
                self.index.complete(slots, rows, columns)

    def _put_vectors(
        self, generation: int, slots: np.ndarray, vectors: np.ndarray, columns: slice,
        incomplete: np.ndarray | None = None, stored: StoredNeighbours | None = None,
    ) -> None:
        """Cache vectors and link the posts to their neighbours (those the stage found,
        where it has); runs in a worker thread."""
        with self.lock:
            if self.index.generation == generation:
                self.index.put_vectors(slots, vectors, columns, incomplete, stored)

    def forget(self, post_ids: list[int]) -> None:
        """Posts found deleted leave the index."""
        with self.lock:
            self.index.forget(post_ids)

    async def feed_rows(self, chosen: list[tuple[int, float]]) -> list[tuple[Row, float]]:
        """The chosen posts as stored now; deleted ones are dropped (and forgotten)."""
        rows = {row["id"]: row for row in await self._store.feed_posts([i for i, _ in chosen])}
        gone = [i for i, _ in chosen if i not in rows]
        if gone:
            self.forget(gone)
        return [(rows[i], score) for i, score in chosen if i in rows]

    def stats(self) -> dict[str, int]:
        """Indexed posts, the vector generation, posts waiting for their sentence vector,
        the stored text model in use (0: one estimated here)."""
        return {
            "posts": len(self.index),
            "generation": self.index.generation,
            "waiting_for_vectors": self.index.incomplete_count(),
            "text_model": self.text_version or 0,
        }
