"""The per-user model as plain Python: it learns from ratings, starts cold from channels,
keeps scores in [0, 1] and shows one post per story."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from ppb.ranking import Candidate, Rated, TextModel, fit as fit_model, load_encoder, rank

NOW = datetime(2026, 1, 10, tzinfo=UTC)
SPORT = [
    "Football: the striker scored twice and the home team won the football derby",
    "Football transfer news: the club signs a young goalkeeper for next football season",
    "Football table after the weekend: three football teams level on points",
]
MARKETS = [
    "Markets: stocks fell as bond yields climbed; stock markets close lower",
    "Markets wait as the central bank keeps rates unchanged; stocks flat",
    "Oil prices jumped and energy stocks led the markets higher",
]
OTHER = [
    "The new phone has a brighter screen and a bigger battery",
    "Heavy rain and storms expected across the north this weekend",
    "The film festival opens tonight with a documentary about the sea",
    "Parliament votes on the budget after a long night of debate",
]
TEXT = TextModel.fit(SPORT + MARKETS + OTHER)


def fit(ratings: list[Rated], prior: dict[int, tuple[int, int]]):
    return fit_model(ratings, prior, TEXT)


def rated(post_id: int, text: str, target: float, channel_id: int = 1) -> Rated:
    return Rated(post_id, text, channel_id, target, NOW - timedelta(days=1))


def candidate(post_id: int, text: str, channel_id: int = 1, age_days: float = 1.0) -> Candidate:
    return Candidate(post_id, text, channel_id, NOW - timedelta(days=age_days))


def test_likes_and_dislikes_decide_the_order_within_one_channel() -> None:
    model = fit([rated(1, SPORT[0], 1.0), rated(2, MARKETS[0], 0.0)], {})
    ranked = rank(model, [candidate(10, MARKETS[1]), candidate(11, SPORT[1])], limit=2, now=NOW)
    assert [item.post_id for item, _ in ranked] == [11, 10]
    assert ranked[0][1] > ranked[1][1]


def test_a_new_rating_changes_the_ranking_at_once() -> None:
    candidates = [candidate(10, SPORT[2]), candidate(11, MARKETS[2])]
    liked_sport = rank(fit([rated(1, SPORT[0], 1.0)], {}), candidates, limit=2, now=NOW)
    also_liked_markets = fit(
        [rated(1, SPORT[0], 0.0), rated(2, MARKETS[0], 1.0), rated(3, MARKETS[1], 1.0)], {}
    )
    assert liked_sport[0][0].post_id == 10
    assert rank(also_liked_markets, candidates, limit=2, now=NOW)[0][0].post_id == 11


def test_cold_start_follows_every_users_like_rate_per_channel() -> None:
    prior = {1: (2, 40), 2: (36, 40)}
    ranked = rank(fit([], prior), [candidate(10, SPORT[0], 1), candidate(11, SPORT[1], 2)], 2, NOW)
    assert [item.post_id for item, _ in ranked] == [11, 10]


def test_scores_stay_between_zero_and_one_even_for_extreme_users() -> None:
    model = fit([rated(n, SPORT[n % 3], 1.0) for n in range(30)], {1: (100, 100)})
    ranked = rank(model, [candidate(100 + n, text) for n, text in enumerate(MARKETS + OTHER)], 7, NOW)
    assert len(ranked) == 7
    assert all(0.0 <= score <= 1.0 for _, score in ranked)


def test_a_story_cross_posted_twice_is_shown_once() -> None:
    story = "Breaking: the space agency confirms the launch window for the lunar mission"
    copy = story + " (via @spacenews)"
    ranked = rank(fit([], {}), [candidate(10, story, 1), candidate(11, copy, 2), candidate(12, SPORT[0])], 3, NOW)
    ids = [item.post_id for item, _ in ranked]
    assert len(ids) == 2
    assert 12 in ids and len({10, 11} & set(ids)) == 1


def test_rated_posts_and_their_copies_are_never_ranked() -> None:
    model = fit([rated(1, SPORT[0], 1.0)], {})
    ranked = rank(model, [candidate(1, SPORT[0]), candidate(2, SPORT[0] + "!"), candidate(3, SPORT[1])], 3, NOW)
    assert [item.post_id for item, _ in ranked] == [3]


def test_newer_posts_win_ties() -> None:
    ranked = rank(fit([], {}), [candidate(10, SPORT[0], age_days=9), candidate(11, MARKETS[0], age_days=0)], 2, NOW)
    assert [item.post_id for item, _ in ranked] == [11, 10]


def test_the_static_embedding_knows_words_the_ratings_never_used() -> None:
    """No n-gram of "boson" is in "quark", yet the packaged static model puts them near."""
    texts = ["The quark model explains the proton", "A new boson was found at the collider",
             "Our bakery sells fresh sourdough bread", "Bake the cake for forty minutes"]
    semantic = TextModel.fit(texts, load_encoder("static"))
    rows = semantic.embed(texts)[:, semantic.model_columns]
    similarity = rows @ rows.T
    assert similarity[0, 1] > similarity[0, 2] + 0.1
    assert similarity[2, 3] > similarity[2, 1] + 0.1
    ngrams = TextModel.fit(texts).embed(texts)[:, : 256]
    assert float(np.abs(ngrams[0] @ ngrams[1])) < similarity[0, 1]


def test_skips_count_as_weak_dislikes() -> None:
    model = fit([rated(1, SPORT[0], 1.0), rated(2, MARKETS[0], 0.25), rated(3, OTHER[0], 0.0)], {})
    assert model.seeds.tolist() == [1.0, -0.30000001192092896, -1.0]
    ranked = rank(model, [candidate(10, MARKETS[1]), candidate(11, SPORT[1])], limit=2, now=NOW)
    assert [item.post_id for item, _ in ranked] == [11, 10]


def test_on_the_generated_fixture_the_regression_finds_a_taste_the_channel_cannot_tell() -> None:
    """Every channel is liked half the time, so only the text can rank (a fast check, no
    store; real-text quality is `test_ranking_eval.py`)."""
    from tests.fixtures import generated_corpus as generated

    corpus = generated.generate(40)
    taste = generated.preferences()[5]
    text = TextModel.fit([post.text for post in corpus.posts])
    train, rest = corpus.posts[:60], corpus.posts[60:]
    ratings = [
        rated(n, post.text, 1.0 if generated.likes(taste, post) else 0.0, post.channel)
        for n, post in enumerate(train)
    ]
    model = fit_model(ratings, {}, text)
    candidates = [candidate(1000 + n, post.text, post.channel) for n, post in enumerate(rest)]
    page = rank(model, candidates, limit=10, now=NOW)
    liked = sum(generated.likes(taste, rest[item.post_id - 1000]) for item, _ in page)
    assert liked >= 8, liked


def test_the_exploration_slot_goes_where_no_rating_reached_but_the_text_leans() -> None:
    """Ten posts both terms like, ten the regression rules out though no rated post is near
    them (spread 0), twenty the regression leans toward a little, none near a rated post
    either (spread ±0.3). The explored post is one of the ten the regression leans toward
    most, not one of the ruled-out ones, which the spread alone called the least known."""
    from ppb.ranking.model import UserModel, choose, least_known, scores

    liked, ruled_out, leaning = np.arange(10), np.arange(10, 20), np.arange(20, 40)
    decision = np.zeros(40, dtype=np.float32)
    decision[liked], decision[ruled_out] = 3.0, -3.0
    decision[leaning] = np.linspace(0.1, 0.5, 20)
    spread_values = np.zeros(40, dtype=np.float32)
    spread_values[liked] = 1.0
    spread_values[leaning] = np.where(np.arange(20) % 2 == 0, 0.3, -0.3)
    model = UserModel(np.zeros((0, 4), np.float32), {}, 0.5, direction=np.zeros(1, np.float32))
    ages = np.ones(40)
    relevance = scores(model, decision, np.ones(40, dtype=np.int64), ages, spread_values)
    uncertainty = least_known(decision, spread_values)
    assert uncertainty[leaning[10:]].min() > uncertainty[ruled_out].max()

    ids = np.arange(100, 140, dtype=np.int64)
    choice = choose(model, relevance, ids, lambda i: np.eye(40, dtype=np.float32)[i], ages, 10, uncertainty)
    assert choice.by_score == 9 and set(choice.chosen[:9]) <= set(liked.tolist())
    assert choice.chosen[9] in leaning[10:].tolist()


def test_a_page_is_full_when_the_least_known_hold_no_new_story() -> None:
    """The exploration slot's quarter may hold only copies of posts already on the page; the
    score then fills the slot, and the page still has `limit` posts (the slot last, when any)."""
    from ppb.ranking.model import UserModel, choose

    model = UserModel(np.zeros((0, 4), np.float32), {}, 0.5, direction=np.zeros(1, np.float32))
    count = 16
    relevance = np.linspace(1.0, 0.0, count)
    uncertainty = np.zeros(count)
    uncertainty[[0, 1, 2, 3]] = 1.0  # the least known are the best by score: on the page already
    prints = np.eye(count, dtype=np.float32)
    ids = np.arange(500, 500 + count, dtype=np.int64)
    choice = choose(model, relevance, ids, lambda i: prints[i], np.ones(count), 10, uncertainty)
    assert len(choice.chosen) == 10 and len(set(choice.chosen)) == 10
    assert choice.by_score == 10 and choice.chosen == list(range(10))


def test_a_page_s_regions_are_its_channels_joined_where_they_mean_alike() -> None:
    """Two channels telling one topic are one region; two topics are two; a channel whose
    posts have no meaning row yet cannot be told apart and joins; `outside` finds posts of
    another region than the page's."""
    from ppb.ranking.model import outside, regions

    football, markets = np.eye(4, dtype=np.float32)[0], np.eye(4, dtype=np.float32)[1]
    unknown = np.zeros(4, dtype=np.float32)
    assert regions(np.array([1, 1, 2, 2]), np.stack([football] * 4)) == 1
    assert regions(np.array([1, 1, 2, 2]), np.stack([football, football, markets, markets])) == 2
    assert regions(np.array([1, 1, 1, 1]), np.stack([football, football, markets, markets])) == 1
    assert regions(np.array([1, 2, 3]), np.stack([football, unknown, markets])) == 1
    page_channels, page = np.array([1, 2]), np.stack([football, football])
    found = outside(page_channels, page, np.array([1, 3, 3, 3]), np.stack([markets, football, markets, unknown]))
    assert found.tolist() == [False, False, True, True]


def test_a_page_that_spans_two_regions_gives_its_slot_to_the_score() -> None:
    """Nine posts by score from two channels of unlike meaning: the page is open, the tenth
    post is the next by score. From one channel, the slot explores (the least known, of
    another region than the page's when there is one)."""
    from ppb.ranking.model import UserModel, choose

    model = UserModel(np.zeros((0, 4), np.float32), {}, 0.5, direction=np.zeros(1, np.float32))
    count = 40
    relevance = np.linspace(1.0, 0.0, count)
    uncertainty = np.zeros(count)
    uncertainty[30:] = 1.0  # the least known: the ten worst by score
    prints = np.eye(count, dtype=np.float32)
    ids = np.arange(count, dtype=np.int64)
    meanings = np.zeros((count, 4), dtype=np.float32)
    meanings[:, 0] = 1.0
    meanings[1::2, :] = np.eye(4, dtype=np.float32)[1]
    two = np.where(np.arange(count) % 2 == 0, 1, 2)
    open_page = choose(model, relevance, ids, lambda i: prints[i], np.ones(count), 10, uncertainty, two, lambda i: meanings[i])
    assert open_page.chosen == list(range(10)) and open_page.by_score == 10

    one = np.where(np.arange(count) < 20, 1, 3)  # the best twenty in channel 1, the rest in 3
    closed = choose(model, relevance, ids, lambda i: prints[i], np.ones(count), 10, uncertainty, one, lambda i: meanings[i])
    assert closed.by_score == 9 and closed.chosen[:9] == list(range(9)) and closed.chosen[9] >= 30
