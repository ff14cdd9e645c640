"""A person's channel dials, applied to a page's scores: a channel turned up or down moves
its posts' log-odds by a fixed step, a channel turned off is never a candidate. Pure numpy;
the core maps the person's rules to `ChannelDials` and hands them in with the request."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

MORE = 1.0
"""Log-odds added to the posts of a channel turned up: one standard deviation of the
person's standardized scores (a good post of it passes a slightly better one of another)."""
LESS = -1.0
"""Log-odds added to the posts of a channel turned down (still shown when nothing is better)."""
REQUEST_KEY = "channel_dials"
"""Where a ranking request's settings (`variant`) carry the dials; the rest are `Params`."""
_EDGE = 1e-6


@dataclass(frozen=True, slots=True)
class ChannelDials:
    """Log-odds shifts by channel id, and the channels never ranked."""

    shifts: Mapping[int, float] = field(default_factory=dict)
    never: frozenset[int] = frozenset()

    def ranked_channels(self, channels: Iterable[int]) -> list[int]:
        """The channels whose posts may be candidates."""
        return [channel for channel in channels if channel not in self.never]

    def apply(self, relevance: np.ndarray, channels: np.ndarray) -> np.ndarray:
        """Scores in (0, 1) with each channel's shift added to their log-odds."""
        if not self.shifts:
            return relevance
        shift = np.zeros(len(channels), dtype=np.float64)
        for channel, step in self.shifts.items():
            shift[channels == channel] = step
        if not shift.any():
            return relevance
        clipped = np.clip(relevance.astype(np.float64), _EDGE, 1.0 - _EDGE)
        odds = np.log(clipped / (1.0 - clipped)) + shift
        return (1.0 / (1.0 + np.exp(-odds))).astype(relevance.dtype)


def split(variant: Mapping[str, Any] | None) -> tuple[dict[str, Any] | None, ChannelDials | None]:
    """A request's settings without the dials, and the dials (None when it has none)."""
    if not variant or REQUEST_KEY not in variant:
        return (dict(variant) if variant else None), None
    settings = {name: value for name, value in variant.items() if name != REQUEST_KEY}
    return settings or None, variant[REQUEST_KEY]


def with_dials(variant: Mapping[str, Any] | None, dials: ChannelDials | None) -> dict[str, Any] | None:
    """A request's settings carrying `dials` too."""
    if dials is None:
        return dict(variant) if variant else None
    return {**(variant or {}), REQUEST_KEY: dials}
