"""The per-user model: logistic regression over post rows, label spreading over the
unrated posts of the user's channels, and a channel baseline for the cold start.

- **Text**: L2-regularized logistic regression on the user's own ratings (likes against
  dislikes; a skip is a negative at a third of the weight), refit on every rating.
- **Corpus** (semi-supervised): the ratings spread over the graph of each channel's
  nearest neighbours (label spreading, Zhou et al. 2004), so a liked post lifts the
  unrated posts written like it even where the regression is unsure.
- **Other people**: the ratings of the most alike people (`collaborative.py`) add seeds
  where the user has rated nothing.
- **Cold start**: before any rating, posts are ranked by the channel's like rate over
  every user, moved toward this user's own ratings there; while the ratings are all of
  one kind, by similarity to (or away from) their mean.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from ppb.ranking.features import NGRAMS_ONLY, TextModel

REGULARIZATION = 10.0
"""Inverse L2 strength of the regression (scikit-learn's C); ratings are few and rows unit."""
SKIP_WEIGHT = 0.3
"""A skip counts as a dislike at this weight: "not now" is weak evidence, not none."""
SPREAD_WEIGHT = 2.0
"""How much the spread over the corpus counts beside the regression (both standardized).
A few dozen noisy ratings fit a regression over 768 columns loosely; the spread reads the
same ratings through each post's neighbours in its own channel, which separates a
channel's topics and carries its record, and on short messages it is the better evidence
(docs/ranking.md, "Weighing the terms")."""
EXPLORATION = 0.1
"""Share of a page given to the best post the model knows least about (1 in 10), when the
page would otherwise close into one region (`OPEN_REGIONS`)."""
OPEN_REGIONS = 2
"""A page whose posts by score already span this many regions (`regions`) is open: its
exploration slot goes to the next post by score. Exploring every page cost a second page
0.033 precision@10 on Russian messages; the pages it kept open are those that close into
one region (docs/ranking.md, "Exploring only a page that would close")."""
ELSEWHERE_LOOKED_AT = 256
"""The best of the least-known quarter looked through for a post of another region than the
page's (their meaning rows read; the slot takes one of the first few)."""
REGION_SIMILARITY = 0.25
"""Mean cosine of meaning between two channels' posts on a page above which they are one
region: the same topic told by two channels (football news: 0.35; football against markets:
0.13; two topics of Debian's interface messages: 0.06)."""
CHANNEL_PSEUDO_RATINGS = 3.0
"""How many ratings a channel's global like rate counts as in a user's channel baseline."""
GLOBAL_PSEUDO_RATINGS = 2.0
"""Smoothing of a channel's global like rate toward one half."""
DUPLICATE_SIMILARITY = 0.8
"""Fingerprint cosine above which two posts are the same story told twice."""
RECENCY_WEIGHT = 0.02
RECENCY_HALF_LIFE_DAYS = 3.0
_DAY = 86400.0


@dataclass(frozen=True, slots=True)
class Params:
    """The model's knobs; an A/B variant overrides some of them."""

    regularization: float = REGULARIZATION
    skip_weight: float = SKIP_WEIGHT
    spread_weight: float = SPREAD_WEIGHT
    exploration: float = EXPLORATION
    collaborative: float = 1.0
    """1: alike people's ratings seed the spreading; 0: only the user's own."""

    def with_overrides(self, overrides: Mapping[str, float] | None) -> Params:
        """These settings with `overrides` applied; an unknown name is an error naming it."""
        if not overrides:
            return self
        unknown = set(overrides) - set(self.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown ranking settings: {', '.join(sorted(unknown))}")
        return replace(self, **{name: float(value) for name, value in overrides.items()})


DEFAULT_PARAMS = Params()


@dataclass(frozen=True, slots=True)
class Rated:
    """A post the user rated; `target` is what the rating says (like 1, skip ¼, dislike 0)."""

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
    """What `fit` learned; `scores` and `choose` apply it to candidates."""

    fingerprints: np.ndarray
    channel_baseline: dict[int, float]
    default_baseline: float
    text_model: TextModel = NGRAMS_ONLY
    params: Params = DEFAULT_PARAMS
    ratings_count: int = 0
    rated_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    seeds: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    direction: np.ndarray | None = None
    intercept: float = 0.0
    peer_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    peer_values: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))

    @property
    def learned(self) -> bool:
        """True once there is a rating: the text then decides, not the channel alone."""
        return self.direction is not None

    def baseline(self, channel_id: int) -> float:
        return self.channel_baseline.get(channel_id, self.default_baseline)

    def baselines(self, channels: np.ndarray) -> np.ndarray:
        values = np.full(len(channels), self.default_baseline, dtype=np.float32)
        for channel in np.unique(channels).tolist():
            if channel in self.channel_baseline:
                values[channels == channel] = self.channel_baseline[channel]
        return values

    def decision(self, rows: np.ndarray) -> np.ndarray:
        """Log-odds of a like from the text alone (`rows` are model columns)."""
        if self.direction is None:
            return np.zeros(len(rows), dtype=np.float32)
        return rows @ self.direction + np.float32(self.intercept)


def fit(
    ratings: Sequence[Rated],
    channel_prior: Mapping[int, tuple[int, int]],
    text_model: TextModel = NGRAMS_ONLY,
    vectors: np.ndarray | None = None,
    params: Params = DEFAULT_PARAMS,
    peers: tuple[np.ndarray, np.ndarray] | None = None,
) -> UserModel:
    """Fit a user's model from their ratings and every user's (likes, ratings) per channel.

    `vectors` are the rated posts' `TextModel.embed` rows when cached; else computed here.
    `peers` are (post ids, seeds) from alike people's ratings (`collaborative.peer_seeds`).
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
        vectors = text_model.embed([rating.text for rating in ratings])
    model = UserModel(
        vectors[:, text_model.fingerprint_columns],
        baseline,
        default,
        text_model,
        params,
        ratings_count=len(ratings),
        rated_ids=np.array([rating.post_id for rating in ratings], dtype=np.int64),
    )
    if not ratings:
        return model
    liked = targets > 0.5
    weights = np.where((targets == 0.0) | (targets == 1.0), 1.0, params.skip_weight)
    model.seeds = (weights * np.where(liked, 1.0, -1.0)).astype(np.float32)
    if peers is not None and params.collaborative:
        model.peer_ids, model.peer_values = peers
    features = vectors[:, text_model.model_columns]
    if liked.all() or not liked.any():  # one kind of rating so far: toward (or away from) it
        model.direction = (model.seeds @ features / len(ratings)).astype(np.float32)
        return model
    regression = LogisticRegression(C=params.regularization, solver="liblinear", max_iter=200)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        regression.fit(features, liked, sample_weight=weights)
    model.direction = regression.coef_[0].astype(np.float32)
    model.intercept = float(regression.intercept_[0])
    return model


def scores(
    model: UserModel,
    decision: np.ndarray,
    channels: np.ndarray,
    ages_days: np.ndarray,
    spread_values: np.ndarray | None = None,
) -> np.ndarray:
    """Scores in [0, 1]: the regression and the spread standardized over the candidates
    and summed, through a logistic; the channel baseline before anything is learned."""
    recency = RECENCY_WEIGHT * np.power(0.5, ages_days / RECENCY_HALF_LIFE_DAYS)
    if not model.learned:
        return np.clip(model.baselines(channels) + recency, 0.0, 1.0)
    raw = _standardized(decision)
    if spread_values is not None and model.params.spread_weight:
        raw = raw + model.params.spread_weight * _standardized(spread_values)
    return 1.0 / (1.0 + np.exp(-(raw + 10 * recency)))


def least_known(decision: np.ndarray, spread_values: np.ndarray) -> np.ndarray:
    """How little the model knows of each candidate, for the exploration slot (larger: less).

    Among the half of the candidates the regression leans toward (log-odds at or above the
    median), the smaller the spread's magnitude the less is known: no rated post is near, for
    or against. The other half ranks below all of them. Measured by the spread alone, the
    slot after one page of ratings mostly took posts of topics the person had liked nothing
    of, and was relevant about as often as a random post; this keeps it on posts no rating
    has reached but the text leans toward (docs/ranking.md, "Weighing the terms")."""
    unknown = -np.abs(spread_values)
    if not len(unknown):
        return unknown
    leaning = decision >= np.median(decision)
    return np.where(leaning, unknown, unknown.min() - 1.0)


def choose(
    model: UserModel,
    relevance: np.ndarray,
    ids: np.ndarray,
    fingerprints_of: Callable[[np.ndarray], np.ndarray],
    ages_days: np.ndarray,
    limit: int,
    uncertainty: np.ndarray | None = None,
    channels: np.ndarray | None = None,
    meanings_of: Callable[[np.ndarray], np.ndarray] | None = None,
) -> Choice:
    """The best `limit` candidates, one per story, none rated nor a rated copy; with how many
    came by score (the rest: the exploration slot) and the copies collapsed into each chosen
    post (the same story elsewhere).

    Walking the order best first, a post whose fingerprint is close to one already chosen
    (or to a rated post) is skipped; only the head of the order is compared, widened while
    too few survive. With `uncertainty`, the last `exploration` share of the page goes to
    the best posts among the quarter the model knows least about, unless the posts chosen by
    score already span `OPEN_REGIONS` regions (with `channels` and `meanings_of`, the
    candidates' channels and unit meaning rows by index; without them every page explores).
    """
    explore = int(limit * model.params.exploration) if uncertainty is not None else 0
    copies: dict[int, list[int]] = {}
    chosen = _walk(model, relevance, ids, fingerprints_of, ages_days, limit - explore, [], copies)
    regional = explore and channels is not None and meanings_of is not None and bool(chosen)
    if regional:
        picked = np.asarray(chosen, dtype=np.int64)
        page_meanings = meanings_of(picked)  # type: ignore[misc]
        if regions(channels[picked], page_meanings) >= OPEN_REGIONS:  # type: ignore[index]
            explore = 0  # open already: the slot goes to the next post by score
            chosen = _walk(model, relevance, ids, fingerprints_of, ages_days, limit, chosen, copies)
    by_score = len(chosen)
    if explore and len(chosen) < len(relevance):
        unknown = uncertainty >= np.quantile(uncertainty, 0.75)
        unknown[chosen] = False
        if regional:  # the least known of another region than the page's, when there are any
            where = np.flatnonzero(unknown)
            if len(where) > ELSEWHERE_LOOKED_AT:  # only the best of them can take the slot
                where = where[np.argpartition(-relevance[where], ELSEWHERE_LOOKED_AT - 1)[:ELSEWHERE_LOOKED_AT]]
            elsewhere = outside(channels[picked], page_meanings, channels[where], meanings_of(where))  # type: ignore[index,misc]
            if elsewhere.any():
                unknown[:] = False
                unknown[where[elsewhere]] = True
        tail = np.where(unknown, relevance, -np.inf)
        chosen = _walk(model, tail, ids, fingerprints_of, ages_days, limit, chosen, copies)
        if len(chosen) < limit:  # the least-known quarter held too few new stories: the score fills the page
            explored = chosen[by_score:]
            filled = _walk(model, relevance, ids, fingerprints_of, ages_days, limit, chosen, copies)[len(chosen):]
            chosen = [*chosen[:by_score], *filled, *explored]
            by_score += len(filled)
    return Choice(chosen, by_score, copies)


def regions(channels: np.ndarray, meanings: np.ndarray) -> int:
    """How many regions of the post graph a page's posts span. The graph links posts only
    within their channel, so a channel's posts are one region at most; two channels whose
    posts mean alike (mean cosine of `meanings`, unit rows, at least `REGION_SIMILARITY`)
    are one, so one topic told by several channels counts once. A channel none of whose
    posts has a meaning row yet (all zero: not embedded) cannot be told apart: it joins."""
    names = np.unique(channels)
    groups = [_known(meanings[channels == name]) for name in names]
    alike = np.array([[_alike(a, b) for b in groups] for a in groups], dtype=bool)
    count, _ = connected_components(sparse.csr_array(alike), directed=False)
    return int(count)


def outside(
    page_channels: np.ndarray, page_meanings: np.ndarray, channels: np.ndarray, meanings: np.ndarray
) -> np.ndarray:
    """Which posts (`channels`, `meanings`) lie in another region than every post of a page:
    of a channel not on it, and meaning unlike its posts (mean cosine under
    `REGION_SIMILARITY`); a post without a meaning row, by its channel alone."""
    mine = _known(page_meanings)
    away = ~np.isin(channels, page_channels)
    if not len(mine):
        return away
    similarity = (meanings @ mine.T).mean(axis=1)
    has_meaning = np.abs(meanings).sum(axis=1) > 0
    return away & ~(has_meaning & (similarity >= REGION_SIMILARITY))


def _known(meanings: np.ndarray) -> np.ndarray:
    """The rows that carry a meaning (not all zero)."""
    return meanings[np.abs(meanings).sum(axis=1) > 0]


def _alike(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two groups of meaning rows are one region (either empty: cannot tell, so yes)."""
    return not len(a) or not len(b) or float((a @ b.T).mean()) >= REGION_SIMILARITY


@dataclass(frozen=True, slots=True)
class Choice:
    """A page's candidates by index: the chosen, how many came by score, and each chosen
    post's copies walked over (by its index; a copy of a rated post is never listed)."""

    chosen: list[int]
    by_score: int
    copies: dict[int, list[int]]


def _walk(
    model: UserModel,
    raw: np.ndarray,
    ids: np.ndarray,
    fingerprints_of: Callable[[np.ndarray], np.ndarray],
    ages_days: np.ndarray,
    limit: int,
    chosen: list[int],
    copies: dict[int, list[int]] | None = None,
) -> list[int]:
    """Extend `chosen` to `limit` by the order of `raw` (-inf never taken), one per story;
    the copies of a chosen post walked over go to `copies` under its index."""
    chosen = list(chosen)
    width = model.fingerprints.shape[1] if len(model.fingerprints) else 0
    kept = fingerprints_of(np.asarray(chosen, dtype=np.int64)) if chosen else None
    head, start = max(4 * limit, 32), 0
    available = int(np.isfinite(raw).sum())
    while len(chosen) < limit and start < available:
        block = _order(raw, ages_days, min(start + head, len(raw)))[start:]
        block = block[np.isfinite(raw[block])]
        if len(model.rated_ids):
            block = block[~np.isin(ids[block], model.rated_ids)]
        block = block[~np.isin(block, chosen)]
        prints = fingerprints_of(block)
        if width and len(block):
            of_rated = (prints @ model.fingerprints.T).max(axis=1) >= DUPLICATE_SIMILARITY
            block, prints = block[~of_rated], prints[~of_rated]
        similar = prints @ prints.T >= DUPLICATE_SIMILARITY
        to_kept = prints @ kept.T if kept is not None and len(kept) else None  # kept row r is chosen[r]
        near_kept = (
            (to_kept >= DUPLICATE_SIMILARITY).any(axis=1) if to_kept is not None else np.zeros(len(block), dtype=bool)
        )
        taken: list[int] = []
        for position, index in enumerate(block.tolist()):
            if near_kept[position]:
                story = chosen[int(to_kept[position].argmax())]  # type: ignore[index]
            else:
                story = next((int(block[other]) for other in taken if similar[position, other]), None)
            if story is not None:  # a copy of a post on the page: collapsed into it
                if copies is not None:
                    copies.setdefault(story, []).append(index)
                continue
            taken.append(position)
            chosen.append(index)
            if len(chosen) == limit:
                break
        kept = prints[taken] if kept is None else np.vstack([kept, prints[taken]])
        start += head
        head *= 2
    return chosen


def _order(raw: np.ndarray, ages_days: np.ndarray, count: int) -> np.ndarray:
    """The first `count` indices by score, best first, newer first on ties."""
    if count < len(raw):
        top = np.argpartition(-raw, count - 1)[:count]
        return top[np.lexsort((ages_days[top], -raw[top]))]
    return np.lexsort((ages_days, -raw))


def _standardized(values: np.ndarray) -> np.ndarray:
    spread_ = float(values.std()) if len(values) else 0.0
    return (values - values.mean()) / spread_ if spread_ > 1e-9 else np.zeros_like(values)


def rank(
    model: UserModel, candidates: Sequence[Candidate], limit: int, now: datetime | None = None
) -> list[tuple[Candidate, float]]:
    """The best `limit` candidates with scores in [0, 1], best first, one post per story.

    Rated posts, and copies of a rated post, are left out. This is the regression alone;
    the Scorer adds the spread over the corpus graph it keeps (`ppb/core/corpus.py`).
    """
    if not candidates or limit <= 0:
        return []
    now = datetime.now(UTC) if now is None else now
    text_model = model.text_model
    rows = text_model.embed([candidate.text for candidate in candidates])
    ids = np.array([candidate.post_id for candidate in candidates], dtype=np.int64)
    channels = np.array([candidate.channel_id for candidate in candidates], dtype=np.int64)
    ages = np.array(
        [max(0.0, (now - candidate.posted_at).total_seconds()) / _DAY for candidate in candidates]
    )
    relevance = scores(model, model.decision(rows[:, text_model.model_columns]), channels, ages)
    fingerprints = rows[:, text_model.fingerprint_columns]
    chosen = choose(model, relevance, ids, lambda i: fingerprints[i], ages, limit).chosen
    return [(candidates[index], float(relevance[index])) for index in chosen]


def seed_vector(node_ids: np.ndarray, model: UserModel) -> np.ndarray:
    """The user's ratings (and their peers', where the user has none) as label-spreading
    seeds on a graph whose nodes are `node_ids`."""
    seeds = np.zeros(len(node_ids), dtype=np.float32)
    if not len(node_ids):
        return seeds
    order = np.argsort(node_ids)
    for ids, values in ((model.peer_ids, model.peer_values), (model.rated_ids, model.seeds)):
        if len(ids):
            where = np.minimum(np.searchsorted(node_ids, ids, sorter=order), len(node_ids) - 1)
            found = node_ids[order[where]] == ids
            seeds[order[where[found]]] = values[found]
    return seeds


def _smoothed(total: float, count: int, prior: float) -> float:
    """A rate from `count` observations pulled toward `prior`, in [0, 1]."""
    value = (total + CHANNEL_PSEUDO_RATINGS * prior) / (count + CHANNEL_PSEUDO_RATINGS)
    return min(1.0, max(0.0, value)) if math.isfinite(value) else prior
