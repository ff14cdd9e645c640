"""The sentence vector's share of a post's row follows the encoder's hold on its language."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ppb.ranking.features import LATENT, TextModel
from ppb.ranking.hold import KNOWN_SHARE, OTHER_SHARE, USE_LANGUAGES, held, shares

RUSSIAN = "Курс доллара вырос на торгах Московской биржи после заявления центрального банка"
UKRAINIAN = "Курс долара зріс на торгах після заяви центрального банку, повідомляють аналітики"
GERMAN = "Der Stürmer erzielte zwei Tore und die Heimmannschaft gewann das Derby deutlich"


class FixedEncoder:
    """Unit vectors along one axis per text, at their shares (as `LazyEncoder` gives them)."""

    name = "fixed+held"
    dimensions = 8

    def encode(self, texts: list[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        vectors[:, 0] = 1.0
        return held(vectors, texts, USE_LANGUAGES)


def test_a_language_the_encoder_was_trained_on_gets_the_larger_share() -> None:
    got = shares([RUSSIAN, UKRAINIAN, GERMAN, "   "], USE_LANGUAGES)
    assert got.tolist() == pytest.approx([KNOWN_SHARE, OTHER_SHARE, KNOWN_SHARE, OTHER_SHARE])
    assert shares([RUSSIAN], frozenset({"en"})).tolist() == pytest.approx([OTHER_SHARE])


def test_rows_split_their_length_between_the_vector_and_the_latent_part_by_that_share() -> None:
    texts = [RUSSIAN, UKRAINIAN]
    text = TextModel.fit([RUSSIAN, UKRAINIAN, GERMAN] * 4, FixedEncoder())
    rows = text.embed(texts)
    semantic = np.linalg.norm(rows[:, : text.semantic_width], axis=1)
    latent = np.linalg.norm(rows[:, text.semantic_width : text.semantic_width + LATENT], axis=1)
    assert semantic.tolist() == pytest.approx([KNOWN_SHARE, OTHER_SHARE], abs=1e-5)
    assert latent.tolist() == pytest.approx([math.sqrt(1 - KNOWN_SHARE**2), OTHER_SHARE], abs=1e-5)
    assert np.linalg.norm(rows[:, text.model_columns], axis=1).tolist() == pytest.approx([1.0, 1.0], abs=1e-5)

    waiting = text.rows(texts, None)  # no sentence vector yet: the latent part at 1/sqrt(2)
    latent = np.linalg.norm(waiting[:, text.semantic_width : text.semantic_width + LATENT], axis=1)
    assert latent.tolist() == pytest.approx([OTHER_SHARE, OTHER_SHARE], abs=1e-5)
    arrived = text.with_semantic(waiting, FixedEncoder().encode(texts))
    assert np.allclose(arrived, rows, atol=1e-5), "a vector that arrives later gives the row made at once"
