"""The sentence vector's share of a post's row, by the encoder's hold on the post's language.

An encoder reads the languages it was trained on well and the others only through what they
share with those (Ukrainian through Russian, say). Where it was trained, its vector carries a
post's meaning better than the n-grams' latent part, so it takes most of the row; elsewhere
the two weigh alike (docs/ranking.md, "The sentence vector's share, by language"). The share
travels as the vector's length: the embedding stage stores it so, and a row is assembled from
it (`TextModel.assemble`).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

KNOWN_SHARE = 0.95
"""The sentence vector's share (its length in the row) where the encoder knows the language."""
OTHER_SHARE = 1 / math.sqrt(2)
"""Its share elsewhere: the sentence vector and the n-grams' latent part alike."""

USE_LANGUAGES = frozenset(
    {"ar", "zh", "nl", "en", "de", "fr", "it", "ja", "ko", "pl", "pt", "es", "th", "tr", "ru"}
)
"""The multilingual Universal Sentence Encoder's training languages (ISO 639-1 as the
language identifier names them; its Chinese is both scripts)."""


class LanguageIdentifier:
    """py3langid's identifier (BSD-3-Clause, its model inside the wheel), loaded once and
    guarded: about 40 us a short post."""

    def __init__(self) -> None:
        self._identifier: Any = None
        self._lock = threading.Lock()

    def languages(self, texts: Sequence[str]) -> list[str]:
        with self._lock:
            if self._identifier is None:
                from py3langid.langid import MODEL_FILE, LanguageIdentifier as Loaded

                self._identifier = Loaded.from_model_file(MODEL_FILE)
            return [self._identifier.classify(text)[0] if text.strip() else "" for text in texts]


IDENTIFIER = LanguageIdentifier()


def shares(texts: Sequence[str], known: frozenset[str], identifier: LanguageIdentifier = IDENTIFIER) -> np.ndarray:
    """Each text's sentence-vector share: `KNOWN_SHARE` in a language of `known`, else
    `OTHER_SHARE` (float32, one per text)."""
    found = identifier.languages(texts)
    return np.array([KNOWN_SHARE if language in known else OTHER_SHARE for language in found], np.float32)


def held(vectors: np.ndarray, texts: Sequence[str], known: frozenset[str]) -> np.ndarray:
    """Sentence vectors scaled to their shares of the row (`shares`): what the stage stores."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    return vectors / norms * shares(texts, known)[:, None]
