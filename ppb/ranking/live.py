"""Which new posts are worth a live push: each person's threshold, learned from their own ratings.

The per-user model's decision is the log-odds of a like from the post's text, so
`sigmoid(decision)` is a like probability calibrated on the person's own ratings. A new
post is pushed when it clears both bars:

- a like is more likely than not (decision > 0), and
- it scores above `OTHERS_QUANTILE` of the posts the person rated down or skipped.

A picky person (many 👎, few 👍) has a lower intercept and a higher second bar, so fewer
posts clear it; a person with no like yet gets no push at all. Pure numpy, no I/O.
"""

from __future__ import annotations

import math

import numpy as np

OTHERS_QUANTILE = 0.9
NEVER = math.inf


def live_threshold(liked: np.ndarray, others: np.ndarray) -> float:
    """The decision (log-odds) a new post must exceed; `NEVER` without a like."""
    if not len(liked):
        return NEVER
    bar = 0.0
    if len(others):
        bar = max(bar, float(np.quantile(others, OTHERS_QUANTILE)))
    return bar


def probability(decision: np.ndarray | float) -> np.ndarray | float:
    return 1.0 / (1.0 + np.exp(-np.asarray(decision, dtype=np.float64)))
