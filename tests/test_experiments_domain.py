"""The A/B rules without a database: a stable split, the Wilson interval, the z-test."""

from __future__ import annotations

from collections import Counter

import pytest

from ppb.domain.errors import DomainError
from ppb.domain.experiments import Variant, assign, bucket, parse_variants, two_proportion_z, wilson

AB = [Variant("control", 1, {}), Variant("explore", 1, {"exploration": 0.2})]


def test_assignment_is_a_pure_function_of_experiment_and_user() -> None:
    assert [assign(7, user, AB).name for user in range(200)] == [assign(7, user, AB).name for user in range(200)]
    assert [assign(7, u, AB).name for u in range(200)] != [assign(8, u, AB).name for u in range(200)]
    assert all(0 <= bucket(3, user) < 1 for user in range(1000))


@pytest.mark.parametrize("weights", [(1, 1), (9, 1), (1, 2, 1)], ids=["even", "90-10", "three-way"])
def test_the_split_follows_the_weights(weights: tuple[int, ...]) -> None:
    variants = [Variant(f"v{i}", w, {}) for i, w in enumerate(weights)]
    counts = Counter(assign(11, user, variants).name for user in range(20_000))
    for i, weight in enumerate(weights):
        assert counts[f"v{i}"] / 20_000 == pytest.approx(weight / sum(weights), abs=0.015)


def test_wilson_interval_matches_the_textbook() -> None:
    low, high = wilson(8, 10)
    assert (round(low, 4), round(high, 4)) == (0.4902, 0.9433)
    assert wilson(0, 0) == (0.0, 1.0)
    low, high = wilson(0, 20)
    assert low == 0.0 and 0.16 < high < 0.17


def test_two_proportion_z_test() -> None:
    z, p = two_proportion_z(50, 100, 70, 100)
    assert round(z, 3) == 2.887 and round(p, 4) == 0.0039
    assert two_proportion_z(5, 10, 5, 10)[1] == pytest.approx(1.0)
    assert two_proportion_z(0, 0, 3, 10) == (0.0, 1.0)


def test_variants_are_checked_naming_the_field() -> None:
    assert [v.name for v in parse_variants([{"name": "a"}, {"name": "b", "weight": 3, "settings": {"x": 1}}])] == ["a", "b"]
    for raw, field in [([{"name": "a"}], "variants"), ([{"name": "a"}, {"name": ""}], "variants[1].name"),
                       ([{"name": "a"}, {"name": "b", "weight": 0}], "variants[1].weight"),
                       ([{"name": "a"}, {"name": "b", "settings": []}], "variants[1].settings")]:
        with pytest.raises(DomainError) as error:
            parse_variants(raw)
        assert error.value.detail.startswith(field)
