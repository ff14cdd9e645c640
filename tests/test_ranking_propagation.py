"""Label spreading: a rating reaches the unrated posts written like the rated one."""

from __future__ import annotations

import numpy as np

from ppb.ranking import graph, spread
from ppb.ranking.propagation import nearest


def _two_topics(size: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(2, 32))
    rows = centres[np.arange(size) % 2] + 0.6 * rng.normal(size=(size, 32))
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def test_a_like_and_a_dislike_spread_each_over_their_own_topic() -> None:
    rows = _two_topics(200)
    neighbours, weights = nearest(rows, rows, np.arange(200))
    seeds = np.zeros(200, dtype=np.float32)
    seeds[0], seeds[1] = 1.0, -1.0  # post 0 is topic 0, post 1 topic 1
    values = spread(graph(neighbours, weights), seeds)
    topic = np.arange(200) % 2
    assert (values[2:][topic[2:] == 0] > 0).mean() > 0.95
    assert (values[2:][topic[2:] == 1] < 0).mean() > 0.95


def test_no_seed_spreads_nothing_and_an_isolated_post_keeps_its_own() -> None:
    neighbours = np.array([[1, -1], [0, -1], [-1, -1]])
    weights = np.array([[0.9, 0.0], [0.9, 0.0], [0.0, 0.0]], dtype=np.float32)
    normalized = graph(neighbours, weights)
    assert not spread(normalized, np.zeros(3, dtype=np.float32)).any()
    values = spread(normalized, np.array([0.0, 0.0, 1.0], dtype=np.float32))
    assert values[0] == values[1] == 0.0 and values[2] > 0.0


def test_nearest_over_a_wide_pool_finds_exactly_the_plain_top_k() -> None:
    """Past 1,024 columns the top is sorted only above a sampled threshold: the same
    neighbours and weights as partitioning every whole row, own positions left out."""
    rng = np.random.default_rng(5)
    pool = rng.standard_normal((3000, 48)).astype(np.float32)
    pool /= np.linalg.norm(pool, axis=1, keepdims=True)
    rows, own = pool[:700], np.arange(700)
    positions, weights = nearest(rows, pool, own)
    similarity = rows @ pool.T
    similarity[own, own] = -np.inf
    expected = np.argpartition(-similarity, 9, axis=1)[:, :10]
    assert np.array_equal(np.sort(positions, axis=1), np.sort(expected, axis=1))
    expected_weights = np.maximum(np.take_along_axis(similarity, expected, axis=1), 0.0)
    np.testing.assert_allclose(np.sort(weights, axis=1), np.sort(expected_weights, axis=1), rtol=1e-6)
    assert not np.any(positions == own[:, None]), "a post is never its own neighbour"


def test_nearest_takes_the_first_of_tied_copies_and_sorts_a_row_of_zeros_whole() -> None:
    """Copies of one post tie: the earliest are taken, as a stable sort of each whole row
    would take them; a row of zeros (every cosine 0, every column at its threshold) is
    sorted whole, not padded into every row's selection."""
    rng = np.random.default_rng(7)
    pool = rng.standard_normal((3000, 48)).astype(np.float32)
    pool[::5] = pool[1]  # 600 copies of one post
    pool[7] = 0.0
    pool /= np.maximum(np.linalg.norm(pool, axis=1, keepdims=True), 1e-12)
    own = np.arange(3000)
    positions, weights = nearest(pool, pool, own)
    similarity = pool @ pool.T
    similarity[own, own] = -np.inf
    expected = np.argsort(-similarity, axis=1, kind="stable")[:, :10]
    assert np.array_equal(positions, expected)
    assert np.array_equal(weights, np.maximum(np.take_along_axis(similarity, expected, axis=1), 0.0))
    assert np.array_equal(positions[7], [0, 1, 2, 3, 4, 5, 6, 8, 9, 10])
