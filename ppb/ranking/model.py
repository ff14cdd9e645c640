"""The per-user model: a channel baseline plus kernel ridge regression over post text.

A user's ratings are few (tens to hundreds), so the model is fit in its dual form: one
n-by-n solve over the cosine similarities of the rated posts, refit on every rating.
The channel baseline starts from every user's like rate of the channel (the cold start)
and moves toward this user's own ratings there; the text part learns what the channel
baseline gets wrong.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
from scipy import sparse

from ppb.ranking.features import UNIFORM, Idf, vectorize

RIDGE = 0.5
"""Regularization of the text part: larger trusts single ratings less."""
CHANNEL_PSEUDO_RATINGS = 3.0
"""How many ratings a channel's global like rate counts as in a user's channel baseline."""
GLOBAL_PSEUDO_RATINGS = 2.0
"""Smoothing of a channel's global like rate toward one half."""
DUPLICATE_SIMILARITY = 0.8
"""Cosine similarity above which two posts are the same story told twice."""
RECENCY_WEIGHT = 0.02
RECENCY_HALF_LIFE_DAYS = 3.0


@dataclass(frozen=True, slots=True)
class Rated:
    """A post the user rated; `target` is what the rating says (like 1, dislike 0)."""

    post_id: int
    text: str
    channel_id: int
    target: float
    posted_at: datetime


@dataclass(frozen=True, slots=True)
class Candidate:
    post_id: int
    text: str
    channel_id: int
    posted_at: datetime


@dataclass(slots=True)
class UserModel:
    """What `fit` learned; `rank` applies it to candidates."""

    vectors: sparse.csr_matrix
    weights: np.ndarray
    channel_baseline: dict[int, float]
    default_baseline: float
    idf: Idf = UNIFORM
    ratings_count: int = 0
    rated_ids: frozenset[int] = field(default_factory=frozenset)

    def baseline(self, channel_id: int) -> float:
        return self.channel_baseline.get(channel_id, self.default_baseline)


def fit(
    ratings: Sequence[Rated], channel_prior: Mapping[int, tuple[int, int]], idf: Idf = UNIFORM
) -> UserModel:
    """Fit a user's model from their ratings and every user's (likes, ratings) per channel.

    `idf` weighs the words of the corpus the user's candidates come from.
    """
    global_rate = {
        channel: (likes + 0.5 * GLOBAL_PSEUDO_RATINGS) / (total + GLOBAL_PSEUDO_RATINGS)
        for channel, (likes, total) in channel_prior.items()
    }
    targets = np.array([rating.target for rating in ratings], dtype=np.float64)
    default = _smoothed(float(targets.sum()), len(ratings), 0.5)
    sums: dict[int, list[float]] = {}
    for rating in ratings:
        sums.setdefault(rating.channel_id, []).append(rating.target)
    baseline = {channel: global_rate.get(channel, default) for channel in global_rate}
    for channel, values in sums.items():
        baseline[channel] = _smoothed(sum(values), len(values), global_rate.get(channel, default))

    vectors = vectorize([rating.text for rating in ratings], idf)
    if not ratings:
        return UserModel(vectors, np.zeros(0), baseline, default, idf)
    residuals = targets - np.array([baseline[rating.channel_id] for rating in ratings])
    gram = (vectors @ vectors.T).toarray()
    weights = np.linalg.solve(gram + RIDGE * np.eye(len(ratings)), residuals)
    return UserModel(
        vectors,
        weights,
        baseline,
        default,
        idf,
        ratings_count=len(ratings),
        rated_ids=frozenset(rating.post_id for rating in ratings),
    )


def rank(
    model: UserModel, candidates: Sequence[Candidate], limit: int, now: datetime | None = None
) -> list[tuple[Candidate, float]]:
    """The best `limit` candidates with scores in [0, 1], best first, one post per story.

    Rated posts, and copies of a rated post, are left out.
    """
    if not candidates or limit <= 0:
        return []
    now = datetime.now(UTC) if now is None else now
    vectors = vectorize([candidate.text for candidate in candidates], model.idf)
    similarity_to_rated = (vectors @ model.vectors.T).toarray()
    text_part = similarity_to_rated @ model.weights if model.ratings_count else np.zeros(len(candidates))
    baseline = np.array([model.baseline(candidate.channel_id) for candidate in candidates])
    age_days = np.array(
        [max(0.0, (now - candidate.posted_at).total_seconds()) / 86400 for candidate in candidates]
    )
    recency = RECENCY_WEIGHT * np.power(0.5, age_days / RECENCY_HALF_LIFE_DAYS)
    scores = np.clip(baseline + text_part + recency, 0.0, 1.0)

    seen_copy = (
        similarity_to_rated.max(axis=1) >= DUPLICATE_SIMILARITY
        if model.ratings_count
        else np.zeros(len(candidates), dtype=bool)
    )
    order = np.lexsort((-age_days, scores))[::-1]  # best score first, newer first on ties
    chosen: list[int] = []
    for index in order:
        candidate = candidates[index]
        if candidate.post_id in model.rated_ids or seen_copy[index]:
            continue
        if chosen and (vectors[chosen] @ vectors[index].T).max() >= DUPLICATE_SIMILARITY:
            continue
        chosen.append(int(index))
        if len(chosen) == limit:
            break
    return [(candidates[index], float(scores[index])) for index in chosen]


def _smoothed(total: float, count: int, prior: float) -> float:
    """A rate from `count` observations pulled toward `prior`, in [0, 1]."""
    value = (total + CHANNEL_PSEUDO_RATINGS * prior) / (count + CHANNEL_PSEUDO_RATINGS)
    return min(1.0, max(0.0, value)) if math.isfinite(value) else prior
