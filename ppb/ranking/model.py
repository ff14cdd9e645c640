"""The per-user model: a channel baseline plus kernel ridge regression over post text.

A user's ratings are few (tens to hundreds), so the model is fit in its dual form: one
n-by-n solve over the cosine similarities of the rated posts, refit on every rating.
The kernel is linear, so the solution folds back into one weight vector over the dense
post vectors and scoring 10k candidates is one matrix-vector product.
The channel baseline starts from every user's like rate of the channel (the cold start)
and moves toward this user's own ratings there; the text part learns what the channel
baseline gets wrong.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from ppb.ranking.features import DIMENSIONS, UNIFORM, Idf, embed

RIDGE = 0.3
"""Regularization of the text part: larger trusts single ratings less."""
CHANNEL_PSEUDO_RATINGS = 3.0
"""How many ratings a channel's global like rate counts as in a user's channel baseline."""
GLOBAL_PSEUDO_RATINGS = 2.0
"""Smoothing of a channel's global like rate toward one half."""
DUPLICATE_SIMILARITY = 0.8
"""Cosine similarity above which two posts are the same story told twice."""
RECENCY_WEIGHT = 0.02
RECENCY_HALF_LIFE_DAYS = 3.0
_DAY = 86400.0


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

    vectors: np.ndarray
    weights: np.ndarray
    channel_baseline: dict[int, float]
    default_baseline: float
    idf: Idf = UNIFORM
    ratings_count: int = 0
    rated_ids: frozenset[int] = field(default_factory=frozenset)
    direction: np.ndarray = field(default_factory=lambda: np.zeros(DIMENSIONS, dtype=np.float32))

    def baseline(self, channel_id: int) -> float:
        return self.channel_baseline.get(channel_id, self.default_baseline)

    def baselines(self, channels: np.ndarray) -> np.ndarray:
        values = np.full(len(channels), self.default_baseline, dtype=np.float32)
        for channel in np.unique(channels).tolist():
            if channel in self.channel_baseline:
                values[channels == channel] = self.channel_baseline[channel]
        return values


def fit(
    ratings: Sequence[Rated],
    channel_prior: Mapping[int, tuple[int, int]],
    idf: Idf = UNIFORM,
    vectors: np.ndarray | None = None,
) -> UserModel:
    """Fit a user's model from their ratings and every user's (likes, ratings) per channel.

    `vectors` are the rated posts' `embed` rows when cached; else they are computed here.
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

    if vectors is None:
        vectors = embed([rating.text for rating in ratings], idf)
    if not ratings:
        return UserModel(vectors, np.zeros(0), baseline, default, idf)
    residuals = targets - np.array([baseline[rating.channel_id] for rating in ratings])
    matrix = vectors.astype(np.float64)
    gram = matrix @ matrix.T
    weights = np.linalg.solve(gram + RIDGE * np.eye(len(ratings)), residuals)
    return UserModel(
        vectors,
        weights,
        baseline,
        default,
        idf,
        ratings_count=len(ratings),
        rated_ids=frozenset(rating.post_id for rating in ratings),
        direction=(weights @ matrix).astype(np.float32),
    )


def scores(
    model: UserModel, text_part: np.ndarray, channels: np.ndarray, ages_days: np.ndarray
) -> np.ndarray:
    """Raw scores (before clipping to [0, 1]); `text_part` is `vectors @ model.direction`."""
    recency = RECENCY_WEIGHT * np.power(0.5, ages_days / RECENCY_HALF_LIFE_DAYS)
    return model.baselines(channels) + text_part + recency


def choose(
    model: UserModel,
    raw: np.ndarray,
    ids: np.ndarray,
    vectors_of: Callable[[np.ndarray], np.ndarray],
    ages_days: np.ndarray,
    limit: int,
) -> list[int]:
    """Indices of the best `limit` candidates, one per story, none rated nor a rated copy.

    Only the head of the order is compared for duplicates (its vectors come from
    `vectors_of(indices)`), widened while too few survive.
    """
    chosen: list[int] = []
    kept = np.zeros((0, model.vectors.shape[1] if model.ratings_count else 0), np.float32)
    rated = np.fromiter(model.rated_ids, dtype=np.int64, count=len(model.rated_ids))
    head, start = max(4 * limit, 32), 0
    while len(chosen) < limit and start < len(raw):
        block = _order(raw, ages_days, start + head)[start:]
        block = block[~np.isin(ids[block], rated)] if len(rated) else block
        block_vectors = vectors_of(block)
        if model.ratings_count:
            copies = (block_vectors @ model.vectors.T).max(axis=1) >= DUPLICATE_SIMILARITY
            block, block_vectors = block[~copies], block_vectors[~copies]
        similar = block_vectors @ block_vectors.T >= DUPLICATE_SIMILARITY
        near_kept = (
            (block_vectors @ kept.T >= DUPLICATE_SIMILARITY).any(axis=1)
            if len(chosen)
            else np.zeros(len(block), dtype=bool)
        )
        taken: list[int] = []
        for position, index in enumerate(block.tolist()):
            if near_kept[position] or any(similar[position, other] for other in taken):
                continue
            taken.append(position)
            chosen.append(index)
            if len(chosen) == limit:
                break
        kept = np.vstack([kept.reshape(-1, block_vectors.shape[1]), block_vectors[taken]])
        start += head
        head *= 2
    return chosen


def _order(raw: np.ndarray, ages_days: np.ndarray, count: int) -> np.ndarray:
    """The first `count` indices by score, best first, newer first on ties."""
    if count < len(raw):
        top = np.argpartition(-raw, count - 1)[:count]
        return top[np.lexsort((ages_days[top], -raw[top]))]
    return np.lexsort((ages_days, -raw))


def rank(
    model: UserModel, candidates: Sequence[Candidate], limit: int, now: datetime | None = None
) -> list[tuple[Candidate, float]]:
    """The best `limit` candidates with scores in [0, 1], best first, one post per story.

    Rated posts, and copies of a rated post, are left out.
    """
    if not candidates or limit <= 0:
        return []
    now = datetime.now(UTC) if now is None else now
    vectors = embed([candidate.text for candidate in candidates], model.idf)
    ids = np.array([candidate.post_id for candidate in candidates], dtype=np.int64)
    channels = np.array([candidate.channel_id for candidate in candidates], dtype=np.int64)
    ages = np.array(
        [max(0.0, (now - candidate.posted_at).total_seconds()) / _DAY for candidate in candidates]
    )
    raw = scores(model, vectors @ model.direction, channels, ages)
    chosen = choose(model, raw, ids, lambda indices: vectors[indices], ages, limit)
    return [(candidates[index], clip(raw[index])) for index in chosen]


def clip(raw: float) -> float:
    """A raw score as a relevance in [0, 1] (monotone, so the order is kept)."""
    return float(min(1.0, max(0.0, raw)))


def _smoothed(total: float, count: int, prior: float) -> float:
    """A rate from `count` observations pulled toward `prior`, in [0, 1]."""
    value = (total + CHANNEL_PSEUDO_RATINGS * prior) / (count + CHANNEL_PSEUDO_RATINGS)
    return min(1.0, max(0.0, value)) if math.isfinite(value) else prior
