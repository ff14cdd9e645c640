"""On real text, simulated people steer their feed (`bench/ranking_steering.py`): each dial
and a must-see word moves precision the way the person who set it would expect, a channel
on never shows nothing, and a must-see post opens the page."""

from __future__ import annotations

import httpx

from bench.ranking_steering import AS_TRAINED, SETTINGS, evaluate_steering
from ppb.http.services import Services
from tests.test_ranking_eval import SMALL


async def test_dials_and_a_must_see_word_move_precision_as_the_person_expects(
    api: httpx.AsyncClient, services: Services, new_id
) -> None:
    result = await evaluate_steering(api, new_id, SMALL, seeds=(1, 2), users=4, settle=services.embedder.catch_up)
    precision = {stage: result.scores.mean(stage, "PPB")[0] for stage in (AS_TRAINED, *SETTINGS)}
    trained = precision[AS_TRAINED]
    more, less_unliked, never, less_liked, must = (precision[stage] for stage in SETTINGS)
    assert more >= trained and less_unliked >= trained and never >= trained, precision
    assert less_liked < trained, precision
    assert must >= trained, precision
    assert result.never_shown == 0
    assert result.must_pages and result.must_first == result.must_pages, result
