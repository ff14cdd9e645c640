"""The embedding stage: each post's sentence vector made once, after it is stored, and kept.

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
from dataclasses import dataclass
from typing import Protocol

from ppb.ranking import Encoder

log = logging.getLogger(__name__)

BATCH = 64
"""Posts embedded per call of the encoder (and per write)."""
IDLE_S = 0.5
"""How often an idle embedder looks for new posts (a wake looks at once)."""
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


@dataclass(slots=True)
class EmbeddingReport:
    posts: int = 0
    seconds: float = 0.0


class Embedder:
    """One embedder's share of the posts: found, embedded in batches, stored."""

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
        """Embed every post of this share that has no vector yet; returns what was done."""
        report = EmbeddingReport()
        started = time.perf_counter()
        if time.monotonic() - self._rescanned >= RESCAN_S:
            self._after, self._rescanned = 0, time.monotonic()
        after_id = self._after
        while not self._stopping:
            found = await self._store.unembedded_posts(self.model, after_id, self._batch, self._part, self._parts)
            if not found:
                break
            vectors = await asyncio.to_thread(self._encoder.encode, [text for _, text in found])
            await self._store.put_post_vectors(self.model, [(post_id, vectors[n]) for n, (post_id, _) in enumerate(found)])
            report.posts += len(found)
            after_id = self._after = found[-1][0]
        report.seconds = time.perf_counter() - started
        self.embedded += report.posts
        return report

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
