"""Why a post is where it is on a person's page: its score taken apart into the terms that
made it, from the same values that ranked it (`pages.PageRanker`).

A learned score is logistic(z(text) + w·z(spread) + recency + dial), z standardized over the
page's candidates. Label spreading is linear, so a post's spread value is exactly the sum over
the seeds of influence × seed (`influence` is the post's row of the spreading operator): the
person's liked posts, their dislikes and their peers' ratings each add a known part. Each
term is given as the log-odds it adds over the page's average candidate. Before anything is
learned, the score is the channel's record with the person plus recency.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from ppb.ranking.model import RECENCY_HALF_LIFE_DAYS, RECENCY_WEIGHT, UserModel, seed_vector

LIKED, TEXT, PEERS, CHANNEL, EXPLORE, DIAL, MUST = "liked", "text", "peers", "channel", "explore", "dial", "must"
REASON_KINDS = (LIKED, TEXT, PEERS, CHANNEL, EXPLORE, DIAL, MUST)
"""Every reason a post can be given, most specific first."""
MIN_CONTRIBUTION = 0.05
"""Log-odds (or, before anything is learned, score) below which a term is not named."""
NAMED_POSTS = 3
"""Liked posts named per reason at most."""
_FLAT = 1e-9


@dataclass(frozen=True, slots=True)
class PageStats:
    """What a page's candidates were standardized by: the regression's log-odds and the
    spread, their mean and deviation (a deviation of 0: the term was left out)."""

    decision_mean: float = 0.0
    decision_std: float = 0.0
    spread_mean: float = 0.0
    spread_std: float = 0.0

    @classmethod
    def of(cls, decision: np.ndarray, spread_values: np.ndarray | None) -> PageStats:
        spread_values = np.zeros(0) if spread_values is None else spread_values
        return cls(
            float(decision.mean()) if len(decision) else 0.0,
            float(decision.std()) if len(decision) else 0.0,
            float(spread_values.mean()) if len(spread_values) else 0.0,
            float(spread_values.std()) if len(spread_values) else 0.0,
        )


@dataclass(frozen=True, slots=True)
class Reason:
    """One reason: its kind, the log-odds it added, and the liked posts behind it."""

    kind: str
    contribution: float
    post_ids: tuple[int, ...] = ()
    detail: str = ""
    """What the reason names beside posts: the channel (its record, its dial) or the word."""


@dataclass(frozen=True, slots=True)
class Explanation:
    """A post's score, its terms by name and the reasons named, strongest first."""

    post_id: int
    score: float
    learned: bool
    terms: Mapping[str, float]
    reasons: tuple[Reason, ...]
    quotes: Mapping[int, str] = field(default_factory=dict)
    """Short texts of the liked posts named (filled by the caller that reads the store)."""

    def with_reason(self, reason: Reason) -> Explanation:
        """The same explanation with `reason` named first (a must-see word placed the post)."""
        return replace(self, reasons=(reason, *self.reasons))

    def naming(self, kinds: tuple[str, ...], detail: str) -> Explanation:
        """The same explanation with `detail` on its reasons of these kinds (a channel's name)."""
        return replace(self, reasons=tuple(
            replace(reason, detail=detail) if reason.kind in kinds else reason for reason in self.reasons
        ))


def seed_parts(node_ids: np.ndarray, model: UserModel) -> tuple[np.ndarray, np.ndarray]:
    """The person's own seeds and their peers' (where the person has none) on the nodes:
    together they are `model.seed_vector`."""
    own = seed_vector(node_ids, replace(model, peer_ids=np.zeros(0, np.int64)))
    peers = seed_vector(node_ids, replace(model, rated_ids=np.zeros(0, np.int64)))
    peers[own != 0] = 0.0
    return own, peers


def recency_term(age_days: float) -> float:
    """The recency bonus a learned score adds to the log-odds (`model.scores`)."""
    return float(10 * RECENCY_WEIGHT * 0.5 ** (age_days / RECENCY_HALF_LIFE_DAYS))


def explain(
    model: UserModel,
    post_id: int,
    channel: int,
    age_days: float,
    *,
    decision: float = 0.0,
    stats: PageStats = PageStats(),
    influence: np.ndarray | None = None,
    node_ids: np.ndarray | None = None,
    fingerprint: np.ndarray | None = None,
    shift: float = 0.0,
    explored: bool = False,
) -> Explanation:
    """The post's score taken apart. `influence` is the post's row of the spreading operator
    over `node_ids` (None: no spread); `fingerprint` finds the liked posts its text is like;
    `shift` is the person's dial on the channel; `explored`: it filled the exploration slot."""
    if not model.learned:
        return _cold(model, post_id, channel, age_days, shift, explored)
    terms: dict[str, float] = {LIKED: 0.0, "disliked": 0.0, PEERS: 0.0, "average": 0.0}
    terms[TEXT] = (decision - stats.decision_mean) / stats.decision_std if stats.decision_std > _FLAT else 0.0
    named: dict[str, tuple[int, ...]] = {}
    spread_value = 0.0
    weight = model.params.spread_weight / stats.spread_std if stats.spread_std > _FLAT else 0.0
    if influence is not None and node_ids is not None and weight:
        own, peers = seed_parts(node_ids, model)
        pulls = influence * own
        terms[LIKED] = weight * float(pulls[own > 0].sum())
        terms["disliked"] = weight * float(pulls[own < 0].sum())
        terms[PEERS] = weight * float(influence @ peers)
        terms["average"] = -weight * stats.spread_mean
        spread_value = float(influence @ (own + peers))
        strongest = _top(pulls, NAMED_POSTS)
        named[LIKED] = tuple(int(node_ids[i]) for i in strongest if pulls[i] > 0 and node_ids[i] != post_id)
    if fingerprint is not None and len(model.fingerprints) and len(model.seeds):
        liked = np.nonzero(model.seeds > 0)[0]
        closest = liked[_top(model.fingerprints[liked] @ fingerprint, NAMED_POSTS)]
        named[TEXT] = tuple(int(model.rated_ids[i]) for i in closest if model.rated_ids[i] != post_id)
    terms["recency"] = recency_term(age_days)
    terms[DIAL] = shift
    raw = terms[TEXT] + weight * (spread_value - stats.spread_mean) + terms["recency"] + shift
    score = float(1.0 / (1.0 + np.exp(-raw)))
    return Explanation(post_id, score, True, terms, _reasons(terms, named, explored))


def _top(values: np.ndarray, count: int) -> np.ndarray:
    """Positions of the `count` largest values, largest first."""
    if len(values) > count:
        values_at = np.argpartition(-values, count - 1)[:count]
        return values_at[np.argsort(-values[values_at])]
    return np.argsort(-values)


def _cold(model: UserModel, post_id: int, channel: int, age_days: float, shift: float, explored: bool) -> Explanation:
    """Before any rating: the channel's record (against the person's default) and recency."""
    recency = RECENCY_WEIGHT * 0.5 ** (age_days / RECENCY_HALF_LIFE_DAYS)
    baseline = model.baseline(channel)
    score = min(1.0, max(0.0, baseline + recency))
    if shift:
        clipped = min(max(score, 1e-6), 1 - 1e-6)
        score = float(1.0 / (1.0 + np.exp(-(np.log(clipped / (1 - clipped)) + shift))))
    terms = {CHANNEL: baseline - model.default_baseline, "recency": recency, DIAL: shift}
    return Explanation(post_id, float(score), False, terms, _reasons(terms, {}, explored))


def _reasons(terms: Mapping[str, float], named: Mapping[str, tuple[int, ...]], explored: bool) -> tuple[Reason, ...]:
    """The terms that moved the post up, strongest first; the exploration slot first of all
    (the model placed it there for what it does not know)."""
    found = [
        Reason(kind, terms[kind], named.get(kind, ()))
        for kind in (LIKED, TEXT, PEERS, CHANNEL, DIAL)
        if terms.get(kind, 0.0) >= MIN_CONTRIBUTION
    ]
    found.sort(key=lambda reason: -reason.contribution)
    if explored:
        found.insert(0, Reason(EXPLORE, 0.0))
    return tuple(found)
