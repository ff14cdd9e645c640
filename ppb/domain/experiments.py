"""A/B tests of ranking variants as pure rules: the split, and the statistics of results.

A user's variant is a pure function of (experiment id, user id): the SHA-256 of both,
read as a number in [0, 1), falls into one variant's share of the split. The store keeps
the first answer, so a later change of the split never moves a user.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ppb.domain.errors import DomainError

Z_95 = 1.959963984540054
"""The two-sided 95% quantile of the standard normal."""
SIGNIFICANCE = 0.05


@dataclass(frozen=True, slots=True)
class Variant:
    name: str
    weight: float
    settings: dict[str, Any]


def bucket(experiment_id: int, user_id: int) -> float:
    """Where the user falls in [0, 1) for this experiment (the same on every process)."""
    digest = hashlib.sha256(f"{experiment_id}:{user_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign(experiment_id: int, user_id: int, variants: Sequence[Variant]) -> Variant:
    """The user's variant: the share of the split their bucket falls into."""
    total = sum(variant.weight for variant in variants)
    point = bucket(experiment_id, user_id) * total
    for variant in variants:
        point -= variant.weight
        if point < 0:
            return variant
    return variants[-1]


def wilson(successes: int, trials: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of a proportion (95% by default); (0, 1) without trials."""
    if trials <= 0:
        return 0.0, 1.0
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def two_proportion_z(s1: int, n1: int, s2: int, n2: int) -> tuple[float, float]:
    """(z, two-sided p-value) of the pooled two-proportion z-test; (0, 1) when undefined."""
    if n1 <= 0 or n2 <= 0:
        return 0.0, 1.0
    pooled = (s1 + s2) / (n1 + n2)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if spread == 0:
        return 0.0, 1.0
    z = (s2 / n2 - s1 / n1) / spread
    return z, math.erfc(abs(z) / math.sqrt(2))


def parse_variants(raw: Any) -> list[Variant]:
    """Variants from stored or sent JSON; raises DomainError naming the wrong field."""
    if not isinstance(raw, list) or len(raw) < 2:
        raise DomainError("variants: at least two variants are required (the first is the control)")
    found: list[Variant] = []
    for index, item in enumerate(raw):
        where = f"variants[{index}]"
        if not isinstance(item, dict):
            raise DomainError(f"{where}: expected an object")
        name, weight, settings = item.get("name"), item.get("weight", 1), item.get("settings", {})
        if not isinstance(name, str) or not 1 <= len(name) <= 64:
            raise DomainError(f"{where}.name: a name of 1 to 64 characters is required")
        if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 < weight <= 1000:
            raise DomainError(f"{where}.weight: must be a number above 0 and at most 1000")
        if not isinstance(settings, dict):
            raise DomainError(f"{where}.settings: expected an object of ranking settings")
        if any(variant.name == name for variant in found):
            raise DomainError(f"{where}.name: {name!r} is used twice")
        found.append(Variant(name, float(weight), settings))
    return found
