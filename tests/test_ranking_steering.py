"""On real text, simulated people steer their feed (`bench/ranking_steering.py`): each dial
moves its channel's share of the page the way it says, a channel on never shows nothing, a
must-see post opens the page and lifts precision.

Precision under the dials is reported by the bench, not asserted here: with two topics a
channel, the channel with the largest liked share may also carry one the person dislikes
(in one run of the whole suite "more" on it fell from 0.925 to 0.89 while the page showed
more of it, as asked), so its direction depends on the corpus the session has built up."""

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
    more, less_unliked, never, less_liked, must = SETTINGS
    assert result.dialled[more][1] >= result.dialled[more][0], result.dialled
    assert result.dialled[less_liked][1] < result.dialled[less_liked][0], result.dialled
    assert result.dialled[less_unliked][1] <= result.dialled[less_unliked][0], result.dialled
    assert result.dialled[never][1] == 0 and result.never_shown == 0, result.dialled
    assert precision[must] >= trained, precision
    assert result.must_pages and result.must_first == result.must_pages, result
