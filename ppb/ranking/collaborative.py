"""Other people's ratings, once enough of them rated the same posts: user-based
neighbours whose ratings become extra seeds of the label spreading.

Two people are alike by the correlation of their seeds (+1 like, -1 dislike, -0.3 skip)
on the posts both rated, shrunk by common / (common + SHRINK); centring matters, since
most people dislike most of what they are shown. Only peers with at least `MIN_COMMON`
posts in common and a similarity of `MIN_SIMILARITY` count. A post
this user has not rated gets, from the `TOP_PEERS` most alike, the similarity-weighted
mean of their seeds, damped by `WEIGHT`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

MIN_COMMON = 5
SHRINK = 10.0
MIN_SIMILARITY = 0.3
TOP_PEERS = 20
WEIGHT = 0.5
"""A peer's rating counts half of the user's own as a seed."""


def similar_peers(
    own: Mapping[int, float], co_ratings: Iterable[tuple[int, int, float]]
) -> dict[int, float]:
    """Peer -> similarity, for the most alike peers; `co_ratings` are (peer, post, seed)
    of posts the user rated too."""
    shared: dict[int, list[tuple[float, float]]] = {}
    for peer, post, seed in co_ratings:
        if post in own:
            shared.setdefault(peer, []).append((own[post], seed))
    scored = {}
    for peer, pairs in shared.items():
        if len(pairs) < MIN_COMMON:
            continue
        mine, theirs = np.array(pairs, dtype=np.float64).T
        mine, theirs = mine - mine.mean(), theirs - theirs.mean()
        norm = float(np.linalg.norm(mine) * np.linalg.norm(theirs))
        if norm > 0:
            similarity = float(mine @ theirs) / norm * len(pairs) / (len(pairs) + SHRINK)
            if similarity >= MIN_SIMILARITY:
                scored[peer] = similarity
    best = sorted(scored, key=scored.__getitem__, reverse=True)[:TOP_PEERS]
    return {peer: scored[peer] for peer in best}


def peer_seeds(
    own: Mapping[int, float],
    peers: Mapping[int, float],
    their_ratings: Iterable[tuple[int, int, float]],
) -> tuple[np.ndarray, np.ndarray]:
    """(post ids, seeds) the peers' ratings give the posts this user has not rated."""
    total: dict[int, float] = {}
    weight: dict[int, float] = {}
    for peer, post, seed in their_ratings:
        similarity = peers.get(peer)
        if similarity is None or post in own:
            continue
        total[post] = total.get(post, 0.0) + similarity * seed
        weight[post] = weight.get(post, 0.0) + similarity
    ids = np.fromiter(total, dtype=np.int64, count=len(total))
    values = np.array([WEIGHT * total[p] / (weight[p] + 0.1) for p in total], dtype=np.float32)
    return ids, values
