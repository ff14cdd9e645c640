"""Why a post is on a page: the explanation is the score that ranked it taken apart, and each
reason it names really moved the post up (its term taken away, the page ranked again, the
post's score drops). Over the real store, both backends."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from ppb.core.scoring import Scoring
from ppb.core.scoring_inputs import StoreInputs
from ppb.domain.errors import NotFound
from ppb.domain.interactions import InteractionType
from ppb.ranking.explain import CHANNEL, EXPLORE, LIKED, MIN_CONTRIBUTION, PEERS, TEXT, Explanation
from ppb.ranking import model as model_module
from ppb.ranking.model import UserModel
from ppb.store.queries import NewPost, Store

TOPICS = ("football match goal striker", "stock market shares bank", "rocket launch orbit moon",
          "guitar concert album band")


def _text(n: int) -> str:
    """A post of topic n % 4 with ten made-up words of its own: alike posts, never one story."""
    rng = np.random.default_rng(n)
    words = ["".join(rng.choice(list("bcdfghklmnprstvz"), 3)) + "".join(rng.choice(list("aeiou"), 2)) for _ in range(10)]
    return f"{TOPICS[n % 4]} {' '.join(words)}"


async def _channel(store: Store, new_id, count: int) -> tuple[int, list[int]]:
    channel = await store.upsert_channel(-(10**12) - new_id(), None, "Explained")
    now = datetime.now(UTC)
    posts = [NewPost(n + 1, _text(n), "text", now - timedelta(minutes=n)) for n in range(count)]
    _, ids = await store.add_posts(channel["id"], posts)
    return channel["id"], ids


async def _reader(store: Store, new_id, channels: list[int], liked: list[int], disliked: list[int]) -> tuple[int, int]:
    user, _ = await store.upsert_user(10**9 + new_id(), None, "E", None)
    await store.link_channels(user["id"], channels, for_training=True)
    for post_id in liked:
        await store.rate(user["telegram_id"], post_id, InteractionType.LIKE)
    for post_id in disliked:
        await store.rate(user["telegram_id"], post_id, InteractionType.DISLIKE)
    return int(user["id"]), int(user["telegram_id"])


async def _rescored(scoring: Scoring, store: Store, user_id: int, post_id: int, model: UserModel) -> float:
    """The post's score on the user's page ranked again as `best` ranks it, with `model` (a
    term taken away): every candidate on the page, so the post's is there wherever it lands."""
    job = await scoring._prepare(user_id, 10, None, StoreInputs(store))
    assert job is not None
    with pytest.MonkeyPatch.context() as patch, scoring._corpus.lock:
        patch.setattr(model_module, "DUPLICATE_SIMILARITY", 2.0)  # every post scored, none a copy
        page = scoring._ranking.choose_many([replace(job, model=model, limit=len(job.slots))], True, time.time())[0]
    return dict(page)[post_id]


def _dropped(before: float, after: float) -> bool:
    """The score fell by at least a named reason's size in log-odds (the terms' unit: near 1
    a score saturates, and a term's whole log-odds move it by less than 1e-3)."""
    def logit(p: float) -> float:
        p = min(max(p, 1e-9), 1 - 1e-9)
        return float(np.log(p / (1 - p)))

    return logit(after) < logit(before) - MIN_CONTRIBUTION


def _model(scoring: Scoring, user_id: int) -> UserModel:
    fitted = scoring._models.get(user_id)
    assert fitted is not None
    return fitted.model


def _reason(explanation: Explanation, kind: str):
    return next(reason for reason in explanation.reasons if reason.kind == kind)


async def test_the_liked_post_named_lifted_the_post_and_the_score_is_the_page_s(store: Store, new_id) -> None:
    channel, ids = await _channel(store, new_id, 40)
    football = ids[0::4]
    user_id, _ = await _reader(store, new_id, [channel], football[:4], ids[1:16:4])
    scoring = Scoring(store)
    page = dict((row["id"], score) for row, score in await scoring.best(user_id, 10))
    post = next(i for i in football[4:] if i in page)
    explanation = await scoring.explain(user_id, post)
    assert explanation.score == pytest.approx(page[post], abs=1e-4), "the score that ranked it"
    liked = _reason(explanation, LIKED)
    assert liked.contribution > 0 and liked.post_ids and set(liked.post_ids) <= set(football[:4])
    assert all(explanation.quotes[i].startswith("football match") for i in liked.post_ids)
    assert TEXT in {reason.kind for reason in explanation.reasons}

    model = _model(scoring, user_id)
    named = liked.post_ids[0]
    keep = model.rated_ids != named
    without_seed = replace(model, rated_ids=model.rated_ids[keep], seeds=model.seeds[keep])
    assert _dropped(page[post], await _rescored(scoring, store, user_id, post, without_seed))
    without_text = replace(model, direction=np.zeros_like(model.direction), intercept=0.0)
    assert _dropped(page[post], await _rescored(scoring, store, user_id, post, without_text))


async def test_peers_named_when_alike_people_liked_it_and_it_drops_without_them(store: Store, new_id) -> None:
    channel, ids = await _channel(store, new_id, 40)
    shared_likes, shared_dislikes = ids[0:12:4], ids[1:12:4]
    post = ids[39]  # a guitar post: nothing the person rated is like it
    user_id, _ = await _reader(store, new_id, [channel], shared_likes, shared_dislikes)
    for _ in range(2):
        await _reader(store, new_id, [channel], [*shared_likes, post], shared_dislikes)
    scoring = Scoring(store)
    page = dict((row["id"], score) for row, score in await scoring.best(user_id, 40))
    explanation = await scoring.explain(user_id, post)
    peers = _reason(explanation, PEERS)
    assert peers.contribution > 0
    model = _model(scoring, user_id)
    alone = replace(model, peer_ids=np.zeros(0, np.int64), peer_values=np.zeros(0, np.float32))
    assert _dropped(page[post], await _rescored(scoring, store, user_id, post, alone))


async def test_before_any_rating_the_channel_s_record_is_the_reason(store: Store, new_id) -> None:
    liked_channel, liked_ids = await _channel(store, new_id, 8)
    other_channel, _ = await _channel(store, new_id, 8)
    await _reader(store, new_id, [liked_channel], liked_ids[:4], [])  # everyone's record there
    user_id, _ = await _reader(store, new_id, [liked_channel, other_channel], [], [])
    scoring = Scoring(store)
    page = dict((row["id"], score) for row, score in await scoring.best(user_id, 10))
    post = liked_ids[5]
    explanation = await scoring.explain(user_id, post)
    assert not explanation.learned and explanation.score == pytest.approx(page[post], abs=1e-4)
    assert explanation.reasons[0].kind == CHANNEL
    model = _model(scoring, user_id)
    plain = replace(model, channel_baseline={k: model.default_baseline for k in model.channel_baseline})
    assert _dropped(page[post], await _rescored(scoring, store, user_id, post, plain))


async def test_the_exploration_slot_says_so(store: Store, new_id) -> None:
    channel, ids = await _channel(store, new_id, 60)
    user_id, _ = await _reader(store, new_id, [channel], ids[0:8:4], ids[1:8:4])
    scoring = Scoring(store)
    page = [row["id"] for row, _ in await scoring.best(user_id, 10)]
    explained = [await scoring.explain(user_id, post) for post in page]
    assert [e.reasons[0].kind == EXPLORE for e in explained] == [False] * 9 + [True]


async def test_an_unknown_post_is_named(store: Store, new_id) -> None:
    channel, _ = await _channel(store, new_id, 4)
    user_id, _ = await _reader(store, new_id, [channel], [], [])
    with pytest.raises(NotFound, match="post_id"):
        await Scoring(store).explain(user_id, 10**12)
