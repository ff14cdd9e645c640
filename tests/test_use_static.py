"""The multilingual static model distilled from the sentence encoder (`PPB_EMBEDDINGS=use-static`):
built by its script with no download, read by model2vec, and asked for by name when missing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ppb.ranking.encoders import LazyEncoder, StaticEncoder

ROOT = Path(__file__).resolve().parent.parent


def test_the_script_distills_a_model_that_reads_any_script(tmp_path: Path) -> None:
    out = tmp_path / "model"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "distill_use_static.py"), "--pieces", "7000",
                    "--dims", "32", "--out", str(out)], check=True, capture_output=True, timeout=600)
    encoder = StaticEncoder(out, "use-m3-static")
    texts = ["Кошка спит на диване", "The cat is sleeping on the sofa", "Οι γάτες κοιμούνται"]
    vectors = encoder.encode(texts)
    assert vectors.shape == (3, 32)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    tokens = encoder._model.tokenizer.encode(texts[0]).ids
    assert tokens and 0 not in tokens, "every character of a text has a piece (none is unknown)"


def test_a_model_not_built_names_its_script(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="not built: python scripts/distill_use_static.py"):
        StaticEncoder(tmp_path / "absent", "use-m3-static", built_by="scripts/distill_use_static.py")
    lazy = LazyEncoder("use-static")
    assert (lazy.name, lazy.dimensions) == ("use-m3-static+held", 256), "known without building or loading it"
