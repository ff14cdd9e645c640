"""New posts scored for the people who may get them pushed: one matrix product for every
learned person, and each person's live threshold (`ppb.ranking.live`)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import numpy as np

from ppb.core.corpus import Corpus
from ppb.core.user_models import UserModels
from ppb.domain.interactions import InteractionType
from ppb.ranking import Params, UserModel
from ppb.ranking.live import NEVER, live_threshold
from ppb.store.queries import Store


@dataclass(frozen=True, slots=True)
class Arrival:
    """New posts' log-odds of a like for one user, and the bar for a live push."""

    decisions: dict[int, float]
    threshold: float


class Arrivals:
    """Scores arriving posts with the cached models; thresholds cached per model version."""

    def __init__(self, store: Store, corpus: Corpus, models: UserModels, params: Params) -> None:
        self._store = store
        self._corpus = corpus
        self._models = models
        self._params = params
        self._thresholds: dict[int, tuple[tuple[Any, ...], float]] = {}

    async def score(self, user_ids: list[int], post_ids: list[int]) -> dict[int, Arrival]:
        """New posts scored for many users at once: their vectors once, one matrix product
        for every learned user, and each user's live threshold."""
        corpus = self._corpus
        await corpus.sync(list(post_ids))
        with corpus.lock:
            slots = corpus.index.slots(post_ids)
        if not len(slots):
            return {}
        await corpus.ensure_vectors(slots)
        models: list[tuple[int, UserModel, float]] = []
        results: dict[int, Arrival] = {}
        all_ratings = await self._store.rating_keys_many(user_ids)  # one query for everyone
        for user_id in user_ids:
            ratings = all_ratings.get(user_id, [])
            fitted = await self._models.current(user_id, ratings, self._params)
            if not fitted.model.learned:
                results[user_id] = Arrival({}, NEVER)
                continue
            models.append((user_id, fitted.model, await self._threshold(user_id, fitted.model, fitted.version, ratings)))
        if models:
            scored = await asyncio.to_thread(self._decisions, slots, [model for _, model, _ in models])
            for (user_id, _, threshold), (ids, values) in zip(models, scored):
                results[user_id] = Arrival(dict(zip(ids, values)), threshold)
        return results

    async def _threshold(
        self, user_id: int, model: UserModel, version: tuple[Any, ...], ratings: list[Any]
    ) -> float:
        cached = self._thresholds.get(user_id)
        if cached is not None and cached[0] == version:
            return cached[1]
        corpus = self._corpus
        liked = [r["post_id"] for r in ratings if r["interaction_type"] == InteractionType.LIKE]
        others = [r["post_id"] for r in ratings if r["interaction_type"] != InteractionType.LIKE]
        with corpus.lock:
            liked_slots, other_slots = corpus.index.slots(liked), corpus.index.slots(others)
        await corpus.ensure_vectors(np.union1d(liked_slots, other_slots).astype(np.int64))
        values = await asyncio.to_thread(self._decisions, np.concatenate([liked_slots, other_slots]), [model])
        decisions = dict(zip(*values[0]))
        with corpus.lock:
            liked_ids, other_ids = corpus.index.ids(liked_slots).tolist(), corpus.index.ids(other_slots).tolist()
        threshold = live_threshold(np.asarray([decisions[i] for i in liked_ids if i in decisions]),
                                   np.asarray([decisions[i] for i in other_ids if i in decisions]))
        self._thresholds[user_id] = (version, threshold)
        while len(self._thresholds) > self._models.cache_size:
            self._thresholds.pop(next(iter(self._thresholds)))
        return threshold

    def _decisions(self, slots: np.ndarray, models: list[UserModel]) -> list[tuple[list[int], list[float]]]:
        """Each model's log-odds of a like for the posts at `slots`; runs in a worker thread."""
        index = self._corpus.index
        with self._corpus.lock:
            valid = slots[~np.isin(slots, index.missing_vectors(slots))] if len(slots) else slots
            ids = index.ids(valid).tolist()
            if not len(valid):
                return [([], []) for _ in models]
            rows = index.vectors(valid)
        columns = [model.text_model.model_columns for model in models]
        if all(c == columns[0] for c in columns):  # one product for everyone
            directions = np.stack([model.direction for model in models], axis=1)
            values = rows[:, columns[0]] @ directions + np.asarray([m.intercept for m in models], dtype=np.float32)
            return [(ids, values[:, k].astype(float).tolist()) for k in range(len(models))]
        return [(ids, model.decision(rows[:, model.text_model.model_columns]).astype(float).tolist())
                for model in models]
