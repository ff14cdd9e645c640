"""On real text (Debian's package descriptions, and its interface messages in Russian),
simulated people rate through the REST API, on both backends; the feed must beat TF-IDF +
logistic regression by a clear margin and stay well above a floor."""

from __future__ import annotations

import httpx

from bench.ranking_eval import SLICES, STAGES, Slice, evaluate
from ppb.http.services import Services

SMALL = Slice(
    "English, 6 sections, 3 channels of 2",
    "en",
    ("games", "science", "sound", "mail", "math", "graphics"),
    channels=3,
    per_channel=60,
    mix=2,
    liked=2,
)
FLOOR = 0.75


async def test_the_feed_reads_real_text_better_than_tfidf_logistic_regression(
    api: httpx.AsyncClient, services: Services, new_id
) -> None:
    scores = await evaluate(api, new_id, SMALL, seeds=(1, 2), users=4, settle=services.embedder.catch_up)
    for stage in STAGES:
        ppb, _ = scores.mean(stage, "PPB")
        baseline, _ = scores.mean(stage, "logistic regression, TF-IDF")
        prior, _ = scores.mean(stage, "channel prior")
        assert ppb >= FLOOR, (stage, ppb)
        assert ppb >= baseline + 0.05, (stage, ppb, baseline)
        assert ppb >= prior + 0.2, (stage, ppb, prior)


RUSSIAN_FLOOR = 0.75


async def test_the_feed_reads_russian_messages_better_than_tfidf_logistic_regression(
    api: httpx.AsyncClient, services: Services, new_id
) -> None:
    """The held-out Russian check's shape (six channels of two topics, people who like
    three), one seed of four people."""
    scores = await evaluate(api, new_id, SLICES["ru-msg"], seeds=(1,), users=4, settle=services.embedder.catch_up)
    for stage in STAGES:
        ppb, _ = scores.mean(stage, "PPB")
        baseline, _ = scores.mean(stage, "logistic regression, TF-IDF")
        assert ppb >= RUSSIAN_FLOOR, (stage, ppb)
        assert ppb >= baseline + 0.05, (stage, ppb, baseline)
