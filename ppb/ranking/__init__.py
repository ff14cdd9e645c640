"""Per-user ranking: features, the model, and scoring. Pure numpy/scipy; no I/O beyond
reading the packaged static embedding model."""

from ppb.ranking.collaborative import peer_seeds, similar_peers
from ppb.ranking.encoders import KINDS as ENCODERS
from ppb.ranking.encoders import load_encoder
from ppb.ranking.features import (
    CORPUS_SAMPLE,
    NGRAMS_ONLY,
    Encoder,
    Idf,
    TextModel,
    outgrown,
    term_counts,
    vectorize,
)
from ppb.ranking.index import PostIndex
from ppb.ranking.model import (
    DEFAULT_PARAMS,
    Candidate,
    Params,
    Rated,
    UserModel,
    choose,
    fit,
    rank,
    scores,
    seed_vector,
)
from ppb.ranking.propagation import graph, spread

__all__ = [
    "CORPUS_SAMPLE",
    "DEFAULT_PARAMS",
    "ENCODERS",
    "NGRAMS_ONLY",
    "Candidate",
    "Encoder",
    "Idf",
    "Params",
    "PostIndex",
    "Rated",
    "TextModel",
    "UserModel",
    "choose",
    "fit",
    "graph",
    "load_encoder",
    "outgrown",
    "peer_seeds",
    "rank",
    "scores",
    "seed_vector",
    "similar_peers",
    "spread",
    "term_counts",
    "vectorize",
]
