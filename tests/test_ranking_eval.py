"""Simulated people with hidden tastes rate through the REST API; the feed must beat what
knowing the channel alone can do, on both backends."""

from __future__ import annotations

import httpx

from bench.ranking_eval import STAGES, evaluate


async def test_the_feed_learns_a_taste_the_channel_cannot_tell(api: httpx.AsyncClient, new_id) -> None:
    scores = await evaluate(api, new_id, posts_per_channel=40, users=4)
    for stage in STAGES:
        model_precision, model_ndcg = scores.mean(stage, "model")
        prior_precision, _ = scores.mean(stage, "channel prior")
        assert model_precision >= 0.8, (stage, model_precision)
        assert model_ndcg >= 0.8, (stage, model_ndcg)
        assert model_precision >= prior_precision + 0.2, (stage, model_precision, prior_precision)
