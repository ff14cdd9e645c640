"""Post text as one dense row: what it means (a sentence embedding), what its n-grams say
(latent semantic components of word and character n-grams, any language), and a lexical
fingerprint that tells copies of one story apart from posts on the same topic.

    row = [ semantic * s | latent * sqrt(1 - s^2) | fingerprint ]
            `model_columns`: what the ranking model reads   `fingerprint_columns`

s, the sentence vector's share, is its length as the encoder gives it: 0.95 in a language
the encoder was trained on, 1/sqrt(2) elsewhere (`ppb.ranking.hold`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from scipy import sparse
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.preprocessing import normalize

from ppb.ranking.hold import OTHER_SHARE

N_FEATURES = 2**18
"""Hashed features per block (words, characters); collisions are rare at this size."""

_COMMON = {"n_features": N_FEATURES, "alternate_sign": False, "norm": None, "lowercase": True}
WORDS = HashingVectorizer(analyzer="word", ngram_range=(1, 2), **_COMMON)
"""Words and word pairs: what a post is about."""
CHARS = HashingVectorizer(analyzer="char_wb", ngram_range=(3, 5), **_COMMON)
"""Character n-grams: word forms, typos, languages written without spaces."""

SKETCH = 4096
"""Width the sparse n-grams are folded to before their latent components are taken."""
LATENT = 256
"""Latent semantic components of the n-grams (a truncated SVD of the corpus sample)."""
FINGERPRINT = 256
"""Width of the lexical fingerprint that near-duplicates are found by."""
CORPUS_SAMPLE = 20_000
"""Newest posts the text model (word weights, latent components) is estimated from."""
CORPUS_GROWTH = 2.0
"""Re-estimate the text model once the corpus has grown by this factor (every post's n-gram
row is made again then, so rarely: the estimates barely move once the sample is large)."""


def outgrown(documents: int, corpus: int) -> bool:
    """Whether a text model that counted `documents` posts is due again at `corpus` posts."""
    return corpus > 0 and (not documents or corpus > documents * CORPUS_GROWTH)


class Encoder(Protocol):
    """A sentence embedding, `dimensions` wide: each row's length is its share of the post's
    row (at most 1; `ppb.ranking.hold`)."""

    name: str
    dimensions: int

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


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
    def fit(cls, texts: Sequence[str], counts: sparse.csr_matrix | None = None) -> Idf:
        """From `texts` (or their `term_counts`, when already made)."""
        counts = term_counts(texts) if counts is None else counts
        frequency = np.bincount(counts.indices, minlength=2 * N_FEATURES)
        weights = np.log((1 + len(texts)) / (1 + frequency)) + 1.0  # smoothed, as scikit-learn's
        return cls(weights.astype(np.float32), len(texts))


UNIFORM = Idf.uniform()


def vectorize(
    texts: Sequence[str], idf: Idf = UNIFORM, counts: sparse.csr_matrix | None = None
) -> sparse.csr_matrix:
    """TF-IDF rows, each block L2-normalized and the two weighted alike: cosine-ready."""
    counts = term_counts(texts) if counts is None else counts.copy()
    if not texts:
        return counts
    counts.data *= idf.weights[counts.indices]
    words, chars = counts[:, :N_FEATURES], counts[:, N_FEATURES:]
    return normalize(sparse.hstack([normalize(words), normalize(chars)], format="csr"))


def _fold_matrix(width: int, seed: int) -> sparse.csr_matrix:
    """A signed hash of every sparse feature onto `width` columns (a count sketch).

    Folding keeps inner products unbiased (error about 1/sqrt(width)).
    """
    generator = np.random.default_rng(seed)
    rows = 2 * N_FEATURES
    columns = generator.integers(0, width, rows)
    signs = generator.choice(np.array([-1.0, 1.0], dtype=np.float32), rows)
    return sparse.csr_matrix((signs, (np.arange(rows), columns)), shape=(rows, width))


_SKETCH = _fold_matrix(SKETCH, 20261201)
_FINGERPRINT = _fold_matrix(FINGERPRINT, 20260110)


def _unit(matrix: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Rows scaled to length 1 (rows of zeros stay zero), float32; into `out` when given."""
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    if out is not None:
        return np.divide(matrix, np.maximum(norms, 1e-12), out=out)
    return (matrix / np.maximum(norms, 1e-12)).astype(np.float32)


def _at_most_unit(rows: np.ndarray) -> np.ndarray:
    """Rows as given, any longer than 1 cut back to length 1 (float32)."""
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return (rows / np.maximum(norms, 1.0)).astype(np.float32)


_UNEMBEDDED_LATENT = np.float32(math.sqrt(1 - OTHER_SHARE**2))
"""The latent part's share in the row of a post with no sentence vector yet: as beside one in a
language the encoder was not trained on (1/sqrt(2)), so a post's latent part weighs alike
before and after its vector arrives in most cases."""


def _latent_share(semantic: np.ndarray) -> np.ndarray:
    """Per row, the latent part's length: sqrt(1 - s^2) for a sentence vector of length s,
    1/sqrt(2) for a row with none yet. A column, for broadcasting."""
    lengths = np.linalg.norm(semantic, axis=1, keepdims=True)
    share = np.sqrt(np.clip(1.0 - lengths**2, 0.0, 1.0))
    return np.where(lengths > 1e-6, share, _UNEMBEDDED_LATENT).astype(np.float32)


def _dense(matrix: sparse.spmatrix) -> np.ndarray:
    return np.asarray(matrix.todense(), dtype=np.float32)


def _random_components(seed: int = 7) -> np.ndarray:
    """Before any corpus is seen: a random projection, which keeps cosines on average."""
    generator = np.random.default_rng(seed)
    return (generator.standard_normal((LATENT, SKETCH)) / math.sqrt(LATENT)).astype(np.float32)


@dataclass(frozen=True, slots=True)
class TextModel:
    """How this corpus generation turns text into rows: word weights, latent components,
    and the sentence encoder (None: n-grams only)."""

    idf: Idf = UNIFORM
    components: np.ndarray = field(default_factory=_random_components)
    encoder: Encoder | None = None

    @classmethod
    def fit(cls, texts: Sequence[str], encoder: Encoder | None = None) -> TextModel:
        """Word weights and latent components estimated from a sample of the corpus."""
        counts = term_counts(texts)
        idf = Idf.fit(texts, counts)
        sketched = vectorize(texts, idf, counts) @ _SKETCH
        rank = min(LATENT, len(texts) - 1, SKETCH - 1)
        components = np.zeros((LATENT, SKETCH), dtype=np.float32)
        if rank >= 1:
            svd = TruncatedSVD(rank, algorithm="randomized", n_iter=4, random_state=0)
            svd.fit(sketched)
            components[:rank] = svd.components_
        return cls(idf, components, encoder)

    @property
    def documents(self) -> int:
        return self.idf.documents

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """What makes this model besides its encoder: word weights and latent components
        (kept in the store, so every replica reads the one the embedding stage made)."""
        return self.idf.weights, self.components

    @classmethod
    def from_arrays(
        cls, weights: np.ndarray, components: np.ndarray, documents: int, encoder: Encoder | None = None
    ) -> TextModel:
        weights = np.asarray(weights, dtype=np.float32).reshape(2 * N_FEATURES)
        components = np.asarray(components, dtype=np.float32).reshape(LATENT, SKETCH)
        return cls(Idf(weights, documents), components, encoder)

    @property
    def semantic_width(self) -> int:
        return self.encoder.dimensions if self.encoder is not None else 0

    @property
    def dimensions(self) -> int:
        return self.semantic_width + LATENT + FINGERPRINT

    @property
    def model_columns(self) -> slice:
        return slice(0, self.semantic_width + LATENT)

    @property
    def meaning_columns(self) -> slice:
        """What a post means: the sentence embedding, or the n-grams' latent part without one."""
        return slice(0, self.semantic_width) if self.semantic_width else self.model_columns

    @property
    def fingerprint_columns(self) -> slice:
        return slice(self.semantic_width + LATENT, self.dimensions)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One float32 row per text (see the module's docstring), the encoder run here."""
        semantic = None
        if self.encoder is not None and texts:
            semantic = np.asarray(self.encoder.encode(list(texts)), dtype=np.float32)
        return self.rows(texts, semantic)

    @property
    def ngram_width(self) -> int:
        """Width of a row's n-gram part (latent components and fingerprint)."""
        return LATENT + FINGERPRINT

    def ngram_rows(self, texts: Sequence[str]) -> np.ndarray:
        """Each text's n-gram part, [latent | fingerprint], float32: what the embedding stage
        stores per text-model version, so no replica vectorizes a stored post again."""
        if not texts:
            return np.zeros((0, self.ngram_width), dtype=np.float32)
        tfidf = vectorize(texts, self.idf)
        latent = _unit(_dense(tfidf @ _SKETCH) @ self.components.T)
        fingerprint = _unit(_dense(tfidf @ _FINGERPRINT))
        return np.hstack([latent, fingerprint]).astype(np.float32)

    def rows(self, texts: Sequence[str], semantic: np.ndarray | None) -> np.ndarray:
        """One float32 row per text from its sentence vector made elsewhere (the stored
        one; a row of zeros where there is none yet: that post ranks by its n-grams)."""
        return self.assemble(self.ngram_rows(texts), semantic)

    def assemble(self, ngrams: np.ndarray, semantic: np.ndarray | None) -> np.ndarray:
        """Whole rows from their n-gram parts (`ngram_rows`, made here or stored) and their
        sentence vectors (None or zeros: not embedded yet)."""
        ngrams = np.asarray(ngrams, dtype=np.float32)
        if self.encoder is None:
            return ngrams
        start = self.semantic_width
        rows = np.empty((len(ngrams), self.dimensions), dtype=np.float32)
        if semantic is None:
            rows[:, :start] = 0.0
        else:
            rows[:, :start] = _at_most_unit(np.asarray(semantic, dtype=np.float32))
        _unit(ngrams[:, :LATENT], out=rows[:, start : start + LATENT])
        rows[:, start : start + LATENT] *= _latent_share(rows[:, :start])
        _unit(ngrams[:, LATENT:], out=rows[:, start + LATENT :])
        return rows

    def rows_from(
        self, ngrams: np.ndarray, made: np.ndarray, texts: Sequence[str], semantic: np.ndarray | None
    ) -> np.ndarray:
        """Whole rows from n-gram parts read from the store where `made`; the others' parts
        are made here from `texts` (one per row not made, in order) and put in `ngrams`."""
        if not made.all():
            ngrams[~made] = self.ngram_rows(texts)
        return self.assemble(ngrams, semantic)

    def with_semantic(self, rows: np.ndarray, semantic: np.ndarray) -> np.ndarray:
        """`rows` with their semantic part replaced by `semantic` (a stored vector arrived)."""
        out = rows.copy()
        start = self.semantic_width
        out[:, :start] = _at_most_unit(np.asarray(semantic, dtype=np.float32))
        latent = out[:, start : start + LATENT]
        latent[:] = _unit(latent) * _latent_share(out[:, :start])
        return out


NGRAMS_ONLY = TextModel()
