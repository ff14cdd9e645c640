"""Training posts that span a channel: from a window of its newest posts, the most typical
posts of each of its groups by meaning, the groups in turn, so a channel that writes on two
topics is rated on both, and on posts that show them plainly (docs/ranking.md, "Training
posts that span a channel")."""

from __future__ import annotations

import numpy as np

GROUPS = 3
"""Groups a channel's window is split into (3 measured better than 2, most in channels that
write in two languages, where two groups split by language more than by topic)."""
ROUNDS = 20
"""k-means rounds over a window (a few hundred posts at most: cheap)."""


def spanning(vectors: np.ndarray, present: np.ndarray, k: int, *, groups: int = GROUPS,
             rounds: int = ROUNDS) -> list[int]:
    """Positions of `k` posts of a window (rows newest first): k-means into `groups` over the
    posts with a vector (`present`), seeded by the newest and then the farthest; then each
    group's posts nearest its centre, the groups in turn. With too few vectors, all the posts
    that have one and the newest of the others. Positions in window order."""
    if k >= len(present):
        return list(range(len(present)))
    have = np.flatnonzero(present)
    if len(have) <= k:
        return sorted([*have.tolist(), *np.flatnonzero(~present)[: k - len(have)].tolist()])
    rows = _unit(np.asarray(vectors, dtype=np.float32)[have])
    rows = _unit(rows - rows.mean(axis=0))  # centred: the channel's own directions, not what all its posts share
    centres = rows[_farthest(rows, min(groups, k))]
    label = np.full(len(rows), -1)
    for _ in range(rounds):
        settled, label = label, np.argmax(rows @ centres.T, axis=1)
        if np.array_equal(settled, label):  # a fixed point: more rounds change nothing
            break
        for group in range(len(centres)):
            if (label == group).any():
                centres[group] = rows[label == group].mean(axis=0)
    label = np.argmax(rows @ centres.T, axis=1)
    queues = []
    for group in range(len(centres)):
        members = np.flatnonzero(label == group)
        queues.append(members[np.argsort(-(rows[members] @ centres[group]), kind="stable")].tolist())
    chosen: list[int] = []
    while len(chosen) < k:
        chosen += [queue.pop(0) for queue in queues if queue][: k - len(chosen)]
    return sorted(have[chosen].tolist())


def _farthest(rows: np.ndarray, k: int) -> list[int]:
    """`k` rows by farthest point (cosine), from the first."""
    chosen = [0]
    nearest = 1.0 - rows @ rows[0]
    while len(chosen) < k:
        nearest[chosen] = -np.inf
        chosen.append(int(np.argmax(nearest)))
        nearest = np.minimum(nearest, 1.0 - rows @ rows[chosen[-1]])
    return chosen


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)
