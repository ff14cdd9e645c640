"""Ranking on top of the store: fit a user's model from their ratings, rank their candidates.

Everything here is a per-process cache rebuilt from the store on a miss, so any process
(an API process, or any Scorer replica) can serve any user: the corpus index (each post's
channel and time, caught up by id), post vectors (posts never change), per-user models
(keyed by the user's rating history) and the word weights.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import numpy as np
from starlette.exceptions import HTTPException

from ppb.domain.interactions import RATING_TARGET, InteractionType
from ppb.ranking import Idf, PostIndex, Rated, UserModel, choose, clip, embed, fit, scores
from ppb.store.queries import Row, Store, as_utc

CANDIDATE_LIMIT = 10_000
CORPUS_SAMPLE = 20_000
"""Newest posts the word weights (IDF) are estimated from."""
CORPUS_GROWTH = 2.0
"""Re-estimate the word weights once the corpus has grown by this factor (every cached
vector is recomputed then, so rarely: the weights barely move once the sample is large)."""
PRIOR_TTL_S = 60.0
"""Refit a cached model this often even without new ratings: other users' ratings move
the channel prior."""
SYNC_BATCH = 20_000
GAP_WINDOW = 1_000
GAP_TTL_S = 30.0
"""Ids missing below the newest one seen are asked for again for this long: a concurrent
insert may commit after a later one (PostgreSQL sequences), or never (a conflict)."""
_DAY = 86400.0


class Ranker(Protocol):
    """What the routes rank with: `Scoring` in process, or the Scorer deployment's client."""

    async def train(self, user_id: int) -> tuple[int, float]: ...

    async def best(
        self, user_id: int, limit: int, *, variant: dict[str, Any] | None = None
    ) -> list[tuple[Row, float]]: ...


@dataclass(slots=True)
class FittedModel:
    model: UserModel
    version: tuple[Any, ...]
    fitted_at: float


class Scoring:
    """Per-user models over one store, cached by the user's rating history version."""

    def __init__(self, store: Store, *, cache_size: int = 10_000, vector_cache: int = 100_000) -> None:
        self._store = store
        self._cache: dict[int, FittedModel] = {}
        self._cache_size = cache_size
        self._index = PostIndex(vector_cache)
        self._lock = threading.Lock()  # index reads in worker threads vs. writes in the loop
        self._sync_lock = asyncio.Lock()
        self._idf_lock = asyncio.Lock()
        self._idf = Idf.uniform()
        self._gaps: dict[int, float] = {}

    async def train(self, user_id: int) -> tuple[int, float]:
        """Fit the user's model now; returns (ratings used, seconds spent)."""
        started = time.perf_counter()
        await self.sync()
        ratings = await self._store.rating_keys(user_id)
        await self._fit(user_id, ratings, await self._channel_ids(user_id))
        return len(ratings), time.perf_counter() - started

    async def best(
        self, user_id: int, limit: int, *, synced: bool = False, variant: dict[str, Any] | None = None
    ) -> list[tuple[Row, float]]:
        """The user's best unrated posts with their scores, best first.

        `variant` holds the ranking settings of the user's A/B variant (None: the default
        model); it is accepted here and not yet applied to the model."""
        if not synced:
            await self.sync()
        ratings = await self._store.rating_keys(user_id)
        channels = await self._channel_ids(user_id)
        fitted = self._cache.get(user_id)
        if fitted is None or not self._fresh(fitted, ratings):
            fitted = await self._fit(user_id, ratings, channels)
        rated = [row["post_id"] for row in ratings]
        with self._lock:
            slots = self._index.candidates(channels, rated, CANDIDATE_LIMIT)
        if not len(slots):
            return []
        await self._ensure_vectors(slots)
        chosen = await asyncio.to_thread(self._choose, fitted.model, slots, limit)
        return await self._rows(chosen)

    async def best_many(
        self, requests: list[tuple[int, int] | tuple[int, int, dict[str, Any] | None]]
    ) -> list[list[tuple[Row, float]] | BaseException]:
        """`best` for several users at once, catching up with the corpus once; each request
        is (user id, limit) or (user id, limit, variant).

        A request that fails gets its exception as its result; the others are unharmed.
        """
        await self.sync()
        calls = (
            self.best(request[0], request[1], synced=True, variant=request[2] if len(request) > 2 else None)
            for request in requests
        )
        return list(await asyncio.gather(*calls, return_exceptions=True))

    def stats(self) -> dict[str, int]:
        """What this process holds: cached models, indexed posts, the vector generation."""
        return {"models": len(self._cache), "posts": len(self._index), "generation": self._index.generation}

    async def sync(self, also_ids: list[int] | None = None) -> None:
        """Learn of posts stored since the last call (and of `also_ids`)."""
        async with self._sync_lock:
            now = time.monotonic()
            self._gaps = {i: t for i, t in self._gaps.items() if now - t < GAP_TTL_S}
            extra = sorted(set(self._gaps) | set(also_ids or ()))[-GAP_WINDOW:]
            while True:
                previous = self._index.max_id
                rows = await self._store.post_keys(previous, extra, SYNC_BATCH)
                ids = [int(row["id"]) for row in rows]
                with self._lock:
                    self._index.add(
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
        await self._refresh_idf()

    async def _refresh_idf(self) -> None:
        """The corpus word weights, re-estimated when the corpus has grown."""
        if not self._idf_stale():
            return
        async with self._idf_lock:
            if not self._idf_stale():
                return
            texts = await self._store.recent_post_texts(CORPUS_SAMPLE)
            if not texts:
                return
            idf = await asyncio.to_thread(Idf.fit, texts)
            # count the whole corpus, so the next estimate waits for it to double
            idf = Idf(idf.weights, max(len(texts), len(self._index)))
            with self._lock:
                self._idf = idf
                self._index.new_generation()

    def _idf_stale(self) -> bool:
        documents = self._idf.documents
        return len(self._index) > 0 and (not documents or len(self._index) > documents * CORPUS_GROWTH)

    async def _channel_ids(self, user_id: int) -> list[int]:
        return [int(row["id"]) for row in await self._store.list_user_channels(user_id)]

    def _fresh(self, fitted: FittedModel, ratings: list[Row]) -> bool:
        return (
            fitted.version == self._version(ratings)
            and time.monotonic() - fitted.fitted_at < PRIOR_TTL_S
        )

    def _version(self, ratings: list[Row]) -> tuple[Any, ...]:
        """Changes whenever a rating is added or replaced, or the word weights change."""
        return (self._index.generation, *((r["post_id"], r["interaction_type"]) for r in ratings))

    async def _fit(self, user_id: int, ratings: list[Row], channels: list[int]) -> FittedModel:
        version = self._version(ratings)
        missing = [r["post_id"] for r in ratings if r["post_id"] not in self._index]
        if missing:
            await self.sync(missing)
        with self._lock:
            slots = self._index.slots([r["post_id"] for r in ratings])
        prior = await self._store.channel_like_rates(
            sorted({int(r["channel_id"]) for r in ratings} | set(channels))
        )
        vectors, idf = await self._vectors(slots)
        rated = [_rated(row) for row in ratings if row["post_id"] in self._index]
        model = await asyncio.to_thread(fit, rated, prior, idf, vectors)
        fitted = FittedModel(model, version, time.monotonic())
        self._cache.pop(user_id, None)
        self._cache[user_id] = fitted
        while len(self._cache) > self._cache_size:
            self._cache.pop(next(iter(self._cache)))
        return fitted

    async def _vectors(self, slots: np.ndarray) -> tuple[np.ndarray, Idf]:
        """The vectors of `slots` and the word weights they were made with."""
        while True:
            await self._ensure_vectors(slots)
            with self._lock:
                if not len(self._index.missing_vectors(slots)):  # else the weights just changed
                    return self._index.vectors(slots), self._idf

    async def _ensure_vectors(self, slots: np.ndarray) -> None:
        """Vectorize (once per replica) the posts among `slots` with no cached vector."""
        with self._lock:
            missing = self._index.missing_vectors(slots)
            generation, idf = self._index.generation, self._idf
        if not len(missing):
            return
        ids = self._index.ids(missing).tolist()
        texts = await self._store.post_texts(ids)
        vectors = await asyncio.to_thread(embed, [texts.get(i, "") for i in ids], idf)
        with self._lock:
            if self._index.generation == generation:
                self._index.put_vectors(missing, vectors)
        gone = [i for i in ids if i not in texts]
        if gone:
            with self._lock:
                self._index.forget(gone)

    def _choose(self, model: UserModel, slots: np.ndarray, limit: int) -> list[tuple[int, float]]:
        """(post id, score) of the best `limit` candidates; runs in a worker thread."""
        with self._lock:
            missing = self._index.missing_vectors(slots)
            if len(missing):  # the word weights changed meanwhile: rank what is still valid
                slots = slots[~np.isin(slots, missing)]
            text_part = self._index.dot(slots, model.direction)
            ids = self._index.ids(slots)
            channels = self._index.channels(slots)
            times = self._index.times(slots)
            ages = np.maximum(0.0, (datetime.now(UTC).timestamp() - times) / _DAY)
            raw = scores(model, text_part, channels, ages)
            chosen = choose(model, raw, ids, lambda i: self._index.vectors(slots[i]), ages, limit)
        return [(int(ids[i]), clip(raw[i])) for i in chosen]

    async def _rows(self, chosen: list[tuple[int, float]]) -> list[tuple[Row, float]]:
        """The chosen posts as stored now; deleted ones are dropped (and forgotten)."""
        rows = {row["id"]: row for row in await self._store.feed_posts([i for i, _ in chosen])}
        gone = [i for i, _ in chosen if i not in rows]
        if gone:
            with self._lock:
                self._index.forget(gone)
        return [(rows[i], score) for i, score in chosen if i in rows]


class ScorerClient:
    """`Ranker` over the Scorer deployment's handle: any replica serves any user."""

    def __init__(self, handle: Any) -> None:
        self._handle = handle

    async def train(self, user_id: int) -> tuple[int, float]:
        count, seconds = await self._call(self._handle.train.remote(user_id))
        return int(count), float(seconds)

    async def best(
        self, user_id: int, limit: int, *, variant: dict[str, Any] | None = None
    ) -> list[tuple[Row, float]]:
        result = await self._call(self._handle.best.remote((user_id, limit, variant)))
        if isinstance(result, BaseException):
            raise result
        return result

    @staticmethod
    async def _call(response: Any) -> Any:
        from ray.exceptions import RayError, RayTaskError
        from ray.serve.exceptions import RayServeException

        try:
            return await response
        except RayTaskError:
            raise  # the Scorer's own error, an instance of its cause (a database error: 503)
        except (RayError, RayServeException) as error:
            raise HTTPException(503, "ranking is unavailable; try again shortly") from error


def _rated(row: Row) -> Rated:
    return Rated(
        post_id=row["post_id"],
        text="",
        channel_id=int(row["channel_id"]),
        target=RATING_TARGET[InteractionType(row["interaction_type"])],
        posted_at=as_utc(row["posted_at"]),
    )
