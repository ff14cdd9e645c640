"""Label spreading over the nearest-neighbour graph of posts (Zhou et al., 2004).

Each post keeps its `K` nearest posts of the same channel (found once, when its vector
is made); a user's graph is that relation restricted to their candidates and rated posts,
made symmetric. Ratings are the seeds; `STEPS` rounds of F <- a*S*F + (1-a)*Y spread them
along the graph, so a post inherits the taste shown for the posts written like it.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

K = 10
"""Neighbours kept per post."""
ALPHA = 0.9
"""How far a rating spreads (0: not at all; near 1: over the whole component)."""
STEPS = 20


def nearest(
    rows: np.ndarray, pool: np.ndarray, self_positions: np.ndarray | None = None, k: int = K
) -> tuple[np.ndarray, np.ndarray]:
    """For each of `rows`, the positions in `pool` of its `k` most similar rows and their
    cosines (rows are unit). `self_positions[i]` is row i's own position in `pool` (or -1)."""
    if not len(rows) or not len(pool):
        return np.full((len(rows), k), -1, np.int64), np.zeros((len(rows), k), np.float32)
    similarity = rows @ pool.T
    if self_positions is not None:
        own = self_positions >= 0
        similarity[np.nonzero(own)[0], self_positions[own]] = -np.inf
    width = min(k, len(pool))
    top, weights = _top(similarity, width)
    finite = np.isfinite(weights)
    positions = np.full((len(rows), k), -1, np.int64)
    values = np.zeros((len(rows), k), np.float32)
    positions[:, :width] = np.where(finite, top, -1)
    values[:, :width] = np.where(finite, np.maximum(weights, 0.0), 0.0)
    return positions, values


SAMPLE_COLUMNS = 512
"""Columns a row's threshold is taken from before its top k are picked (see `_top`): 512
leave half the values to sort that 256 did, for a little more partitioning (a 2,500-square
block took about 15% less)."""
WHOLE_COLUMNS = 1024
"""Up to this many columns each row is partitioned whole."""
CROWDED = 1024
"""Values at or above its sampled threshold past which a row's top is found exactly first
(see `_top`), so one such row does not widen every row's padding."""


def _top(similarity: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's `width` largest values and their columns, best first (ties: the lower
    column first) past `WHOLE_COLUMNS` columns, in no particular order up to it.

    A row's `width`-th largest among a sample of its columns is never above its true
    `width`-th largest, so every value of the true top is at or above it: only those
    (about `width` times columns / sample per row) are sorted, each row's in a short
    padded row of its own, not the whole row.
    """
    count, columns = similarity.shape
    if columns <= WHOLE_COLUMNS:
        top = np.argpartition(similarity, columns - width, axis=1)[:, -width:]
        return top, np.take_along_axis(similarity, top, axis=1)
    sample = similarity[:, _sample(columns)]
    threshold = np.partition(sample, sample.shape[1] - width, axis=1)[:, -width]
    chosen = similarity >= threshold[:, None]
    crowded = np.nonzero(chosen.sum(axis=1) > CROWDED)[0]  # a row of zeros: every cosine 0
    if len(crowded):
        chosen[crowded] = _exactly_top(similarity[crowded], width)
    row, column = np.nonzero(chosen)  # by row, then column
    counts = np.bincount(row, minlength=count)
    place = np.arange(len(row)) - (np.cumsum(counts) - counts)[row]
    padded = np.full((count, max(int(counts.max()), width)), -np.inf, dtype=similarity.dtype)
    padded[row, place] = similarity[row, column]
    padded_columns = np.zeros(padded.shape, dtype=np.int64)
    padded_columns[row, place] = column
    order = np.argsort(-padded, axis=1, kind="stable")[:, :width]  # stable: ties by column
    return np.take_along_axis(padded_columns, order, axis=1), np.take_along_axis(padded, order, axis=1)


def _sample(columns: int) -> np.ndarray:
    """`SAMPLE_COLUMNS` of `columns`, the same each time, spread at random rather than at a
    fixed stride (posts copied at a regular interval would fill a strided sample)."""
    return np.sort(np.random.default_rng(columns).choice(columns, SAMPLE_COLUMNS, replace=False))


def _exactly_top(block: np.ndarray, width: int) -> np.ndarray:
    """Which are each row's `width` largest values, exactly `width` a row: of the values
    tied at the `width`-th, those of the lowest columns (what a stable sort takes)."""
    kth = np.partition(block, block.shape[1] - width, axis=1)[:, -width][:, None]
    above = block > kth
    tied = block == kth
    room = width - above.sum(axis=1, keepdims=True)
    return above | (tied & (np.cumsum(tied, axis=1) <= room))


def graph(neighbors: np.ndarray, weights: np.ndarray) -> sparse.csr_matrix:
    """The normalized symmetric graph D^-1/2 (W + W^T) D^-1/2 over nodes 0..n-1.

    `neighbors[i]` are node indices (or -1 for none) of node i's nearest, `weights` their
    similarities; a pair that chose each other counts twice.
    """
    size = len(neighbors)
    keep = (neighbors >= 0) & (weights > 0)
    starts = np.concatenate([[0], np.cumsum(keep.sum(axis=1))])
    adjacency = sparse.csr_matrix(
        (weights[keep].astype(np.float32), neighbors[keep], starts), shape=(size, size)
    )
    adjacency = (adjacency + adjacency.T).tocsr()
    degree = np.asarray(adjacency.sum(axis=1)).ravel()
    scale = (1.0 / np.sqrt(np.where(degree > 0, degree, 1.0))).astype(np.float32)
    adjacency.data *= scale[adjacency.indices]
    adjacency.data *= np.repeat(scale, np.diff(adjacency.indptr))
    return adjacency


def spread(
    normalized: sparse.csr_matrix, seeds: np.ndarray, alpha: float = ALPHA, steps: int = STEPS
) -> np.ndarray:
    """Seeds spread along the graph; an unrated post's value is its inherited taste."""
    values = seeds.astype(np.float32)
    start = np.float32(1 - alpha) * values
    for _ in range(steps):
        values = np.float32(alpha) * (normalized @ values) + start
    return values
