"""Ranking on top of the store: fit a user's model from their ratings, rank their candidates.

Models are cached per process and rebuilt from the store on a miss, so any process can
serve any user (the Scorer deployment wraps this class).
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from ppb.domain.interactions import RATING_TARGET, InteractionType
from ppb.ranking import Candidate, Idf, Rated, UserModel, fit, rank
from ppb.store.queries import Row, Store, as_utc

CANDIDATE_LIMIT = 10_000
CORPUS_SAMPLE = 20_000
"""Newest posts the word weights (IDF) are estimated from."""
CORPUS_GROWTH = 1.1
"""Re-estimate the word weights once the corpus has grown by this factor."""


@dataclass(slots=True)
class FittedModel:
    model: UserModel
    version: tuple[Any, ...]


@dataclass(slots=True)
class CorpusWeights:
    idf: Idf
    latest_post_id: int


class Scoring:
    """Per-user models over one store, cached by the user's rating history version."""

    def __init__(self, store: Store, cache_size: int = 10_000) -> None:
        self._store = store
        self._cache: OrderedDict[int, FittedModel] = OrderedDict()
        self._cache_size = cache_size
        self._corpus = CorpusWeights(Idf.uniform(), 0)
        self._corpus_lock = asyncio.Lock()

    async def train(self, user_id: int) -> tuple[int, float]:
        """Fit the user's model now; returns (ratings used, seconds spent fitting)."""
        ratings = await self._store.rated_posts(user_id)
        started = time.perf_counter()
        await self._fit(user_id, ratings)
        return len(ratings), time.perf_counter() - started

    async def best(self, user_id: int, limit: int) -> list[tuple[Row, float]]:
        """The user's best unrated posts with their scores, best first."""
        ratings = await self._store.rated_posts(user_id)
        candidates = await self._store.candidate_posts(user_id, CANDIDATE_LIMIT)
        if not candidates:
            return []
        idf = await self._idf()
        fitted = self._cache.get(user_id)
        if fitted is None or fitted.version != _version(ratings, idf):
            fitted = await self._fit(user_id, ratings)
        else:
            self._cache.move_to_end(user_id)
        by_id = {row["id"]: row for row in candidates}
        items = [
            Candidate(row["id"], row["text"] or "", row["channel_id"], as_utc(row["posted_at"]))
            for row in candidates
        ]
        ranked = await asyncio.to_thread(rank, fitted.model, items, limit)
        return [(by_id[candidate.post_id], float(score)) for candidate, score in ranked]

    async def _idf(self) -> Idf:
        """The corpus word weights, re-estimated when the corpus has grown."""
        latest = await self._store.latest_post_id()
        if latest <= self._corpus.latest_post_id * CORPUS_GROWTH:
            return self._corpus.idf
        async with self._corpus_lock:
            if latest > self._corpus.latest_post_id * CORPUS_GROWTH:
                texts = await self._store.recent_post_texts(CORPUS_SAMPLE)
                idf = await asyncio.to_thread(Idf.fit, texts)
                self._corpus = CorpusWeights(idf, latest)
        return self._corpus.idf

    async def _fit(self, user_id: int, ratings: list[Row]) -> FittedModel:
        idf = await self._idf()
        linked = await self._store.list_user_channels(user_id)
        channel_ids = sorted({row["channel_id"] for row in ratings} | {row["id"] for row in linked})
        prior = await self._store.channel_like_rates(channel_ids)
        rated = [_rated(row) for row in ratings]
        model = await asyncio.to_thread(fit, rated, prior, idf)
        fitted = FittedModel(model, _version(ratings, idf))
        self._cache[user_id] = fitted
        self._cache.move_to_end(user_id)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return fitted


def _rated(row: Row) -> Rated:
    return Rated(
        post_id=row["id"],
        text=row["text"] or "",
        channel_id=row["channel_id"],
        target=RATING_TARGET[InteractionType(row["interaction_type"])],
        posted_at=as_utc(row["posted_at"]),
    )


def _version(ratings: list[Row], idf: Idf) -> tuple[Any, ...]:
    """Changes whenever a rating is added or replaced, or the word weights are re-estimated."""
    return (id(idf), *((row["id"], row["interaction_type"]) for row in ratings))
