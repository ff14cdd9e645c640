"""Per-user ranking: features, the model, and scoring. Pure numpy/scipy; no I/O."""

from ppb.ranking.features import Idf, term_counts, vectorize
from ppb.ranking.model import Candidate, Rated, UserModel, fit, rank

__all__ = ["Candidate", "Idf", "Rated", "UserModel", "fit", "rank", "term_counts", "vectorize"]
