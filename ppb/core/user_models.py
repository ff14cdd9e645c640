"""Each person's fitted model, cached under the version of their rating history (and the text
model's generation, and the settings): any new or replaced rating refits it."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from ppb.core.corpus import Corpus
from ppb.core.scoring_inputs import StoreInputs
from ppb.domain.interactions import RATING_TARGET, InteractionType
from ppb.ranking import Params, Rated, UserModel, fit, peer_seeds, similar_peers
from ppb.store.queries import Row, Store, as_utc

PRIOR_TTL_S = 60.0
"""Refit a cached model this often even without new ratings: other users' ratings move
the channel prior."""


@dataclass(slots=True)
class FittedModel:
    model: UserModel
    version: tuple[Any, ...]
    fitted_at: float
    waiting_links: int | None = None
    """When some rated posts had no sentence vector yet: the index's `links` then (the model
    is fitted again once any post is completed)."""


class UserModels:
    """Fitted models by user id, the oldest dropped beyond `cache_size`."""

    def __init__(self, store: Store, corpus: Corpus, cache_size: int = 10_000) -> None:
        self._store = store
        self._corpus = corpus
        self._cache: dict[int, FittedModel] = {}
        self.cache_size = cache_size

    def __len__(self) -> int:
        return len(self._cache)

    def get(self, user_id: int) -> FittedModel | None:
        return self._cache.get(user_id)

    def fresh(self, fitted: FittedModel, ratings: list[Row], params: Params) -> bool:
        """Still the model of these ratings and settings, fitted under a minute ago, and not
        waiting for a rated post's sentence vector that has arrived since."""
        return (
            fitted.version == self.version(ratings, params)
            and time.monotonic() - fitted.fitted_at < PRIOR_TTL_S
            and fitted.waiting_links in (None, self._corpus.index.links)
        )

    def version(self, ratings: list[Row], params: Params) -> tuple[Any, ...]:
        """Changes whenever a rating is added or replaced, or the text model changes."""
        keys = ((r["post_id"], r["interaction_type"]) for r in ratings)
        return (self._corpus.index.generation, params, *keys)

    async def current(self, user_id: int, ratings: list[Row], params: Params) -> FittedModel:
        """The cached model while the person's ratings are the same (the channel prior's
        drift, which a page refits for, does not move the text's log-odds)."""
        fitted = self._cache.get(user_id)
        if fitted is None or fitted.version != self.version(ratings, params):
            fitted = await self.fit(user_id, ratings, await self._store.user_channel_ids(user_id), params)
        return fitted

    async def fit(
        self, user_id: int, ratings: list[Row], channels: list[int], params: Params, inputs: StoreInputs | None = None
    ) -> FittedModel:
        """Fit the user's model on their ratings over the corpus's rows, and cache it."""
        corpus = self._corpus
        missing = [r["post_id"] for r in ratings if r["post_id"] not in corpus.index]
        if missing:
            await corpus.sync(missing)
        with corpus.lock:
            slots = corpus.index.slots([r["post_id"] for r in ratings])
        inputs = StoreInputs(self._store) if inputs is None else inputs
        prior = await inputs.like_rates(sorted({int(r["channel_id"]) for r in ratings} | set(channels)))
        vectors, text, generation = await corpus.vectors(slots)
        with corpus.lock:
            waiting = corpus.index.links if len(corpus.index.incomplete_vectors(slots)) else None
        version = (generation, *self.version(ratings, params)[1:])
        rated = [_rated(row) for row in ratings if row["post_id"] in corpus.index]
        peers = await self._peer_seeds(user_id, ratings, params, inputs) if params.collaborative else None
        model = await asyncio.to_thread(fit, rated, prior, text, vectors, params, peers)
        fitted = FittedModel(model, version, time.monotonic(), waiting)
        self._cache.pop(user_id, None)
        self._cache[user_id] = fitted
        while len(self._cache) > self.cache_size:
            self._cache.pop(next(iter(self._cache)))
        return fitted

    async def _peer_seeds(
        self, user_id: int, ratings: list[Row], params: Params, inputs: StoreInputs
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """Seeds from the most alike people's ratings (two queries), or None."""
        own = {int(r["post_id"]): _seed(r["interaction_type"], params) for r in ratings}
        if not own:
            return None
        co = await inputs.co_ratings(user_id)
        peers = similar_peers(
            own, ((r["user_id"], r["post_id"], _seed(r["interaction_type"], params)) for r in co)
        )
        if not peers:
            return None
        theirs = await inputs.ratings_by(sorted(peers))
        rows = ((r["user_id"], r["post_id"], _seed(r["interaction_type"], params)) for r in theirs)
        return peer_seeds(own, peers, rows)


def _seed(kind: str, params: Params) -> float:
    """A rating as a spreading seed: like +1, dislike -1, skip -skip_weight."""
    target = RATING_TARGET[InteractionType(kind)]
    if target == 1.0:
        return 1.0
    return -1.0 if target == 0.0 else -params.skip_weight


def _rated(row: Row) -> Rated:
    return Rated(
        post_id=row["post_id"],
        text="",
        channel_id=int(row["channel_id"]),
        target=RATING_TARGET[InteractionType(row["interaction_type"])],
        posted_at=as_utc(row["posted_at"]),
    )
