"""Per-user ranking: features, the model, and scoring. Pure numpy/scipy; no I/O."""

from ppb.ranking.features import DIMENSIONS, Idf, embed, term_counts, vectorize
from ppb.ranking.index import PostIndex
from ppb.ranking.model import Candidate, Rated, UserModel, choose, clip, fit, rank, scores

__all__ = [
    "DIMENSIONS",
    "Candidate",
    "Idf",
    "PostIndex",
    "Rated",
    "UserModel",
    "choose",
    "clip",
    "embed",
    "fit",
    "rank",
    "scores",
    "term_counts",
    "vectorize",
]
