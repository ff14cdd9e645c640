"""Post text as hashed word and character n-grams with TF-IDF weights: no vocabulary to
download, any language."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.preprocessing import normalize

N_FEATURES = 2**18
"""Hashed features per block (words, characters); collisions are rare at this size."""

_COMMON = {"n_features": N_FEATURES, "alternate_sign": False, "norm": None, "lowercase": True}
WORDS = HashingVectorizer(analyzer="word", ngram_range=(1, 2), **_COMMON)
"""Words and word pairs: what a post is about."""
CHARS = HashingVectorizer(analyzer="char_wb", ngram_range=(3, 5), **_COMMON)
"""Character n-grams: word forms, typos, languages written without spaces."""


def term_counts(texts: Sequence[str]) -> sparse.csr_matrix:
    """Sublinear term frequencies, log(1 + count), words then characters, one row per text."""
    if not texts:
        return sparse.csr_matrix((0, 2 * N_FEATURES), dtype=np.float64)
    blocks = [WORDS.transform(texts), CHARS.transform(texts)]
    for block in blocks:
        np.log1p(block.data, out=block.data)
    return sparse.hstack(blocks, format="csr")


@dataclass(frozen=True, slots=True)
class Idf:
    """Inverse document frequency per hashed feature, from a sample of the corpus.

    Words every post uses ("the", "и") weigh little; a feature never seen weighs most.
    """

    weights: np.ndarray
    documents: int

    @classmethod
    def uniform(cls) -> Idf:
        return cls(np.ones(2 * N_FEATURES, dtype=np.float32), 0)

    @classmethod
    def fit(cls, texts: Sequence[str]) -> Idf:
        counts = term_counts(texts)
        frequency = np.bincount(counts.indices, minlength=2 * N_FEATURES)
        weights = np.log((1 + len(texts)) / (1 + frequency)) + 1.0  # smoothed, as scikit-learn's
        return cls(weights.astype(np.float32), len(texts))


UNIFORM = Idf.uniform()


def vectorize(texts: Sequence[str], idf: Idf = UNIFORM) -> sparse.csr_matrix:
    """TF-IDF rows, each block L2-normalized and the two weighted alike: cosine-ready."""
    counts = term_counts(texts)
    if not texts:
        return counts
    counts.data *= idf.weights[counts.indices]
    words, chars = counts[:, :N_FEATURES], counts[:, N_FEATURES:]
    return normalize(sparse.hstack([normalize(words), normalize(chars)], format="csr"))


DIMENSIONS = 512
"""Width of the dense vectors posts are cached and scored as."""


def _fold_matrix(seed: int = 20260110) -> sparse.csr_matrix:
    """A signed hash of every sparse feature onto `DIMENSIONS` columns (a count sketch).

    Folding keeps inner products unbiased (error about 1/sqrt(DIMENSIONS)), so cosine
    similarities survive while a row shrinks to a few kilobytes scored by dense algebra.
    """
    generator = np.random.default_rng(seed)
    rows = 2 * N_FEATURES
    columns = generator.integers(0, DIMENSIONS, rows)
    signs = generator.choice(np.array([-1.0, 1.0], dtype=np.float32), rows)
    return sparse.csr_matrix((signs, (np.arange(rows), columns)), shape=(rows, DIMENSIONS))


_FOLD = _fold_matrix()


def embed(texts: Sequence[str], idf: Idf = UNIFORM) -> np.ndarray:
    """Dense unit rows (float32, `DIMENSIONS` wide): TF-IDF n-grams folded by `_FOLD`."""
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    folded = np.asarray((vectorize(texts, idf) @ _FOLD).todense(), dtype=np.float32)
    norms = np.linalg.norm(folded, axis=1, keepdims=True)
    return folded / np.maximum(norms, 1e-12)
