"""The Serve application end to end over real HTTP: `posts/best` and `ml/train` go through
the Scorer deployment, whose replica caches what it learned from the store."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from ppb.compose.serve import build_application
from ppb.config import load_settings
from tests.conftest import API_KEY, eventually
from tests.ports import free_port

APP = "ppb-scorer-test"
SPORT = [
    "Football: the striker scored twice and the home team won the football derby",
    "Football transfer news: the football club signs a young goalkeeper",
    "Football league table: three football teams level on points after the derby",
    "Football coach praises the goalkeeper after a clean sheet in the football league",
]
MARKETS = [
    "Markets: stocks fell as bond yields climbed and investors sold shares in the markets",
    "Markets wait as the central bank keeps rates unchanged; stocks and markets flat",
    "Markets rally: shares of banks lead the stock index and the markets higher",
    "Markets: bond investors price in a rate cut as inflation cools the markets",
]


@pytest.fixture(scope="module")
def serve_port(ray_session: None) -> Iterator[int]:
    """Serve's HTTP proxy on a free port for this module; everything is shut down after."""
    from ray import serve

    port = free_port()
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    yield port
    serve.shutdown()


@pytest.fixture(scope="module")
async def served(serve_port: int, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The whole application (Api + Scorer) on this backend, spoken to over HTTP."""
    from ray import serve

    # No bot, and the shards the Api replicas start in a namespace of this module's own.
    settings = load_settings(DATABASE_URL=database_url, PPB_API_KEY=API_KEY, PPB_SCORER_CPUS=0,
                             PPB_SANDBOX=False, PPB_RAY_NAMESPACE=f"ppb-scorer-{uuid.uuid4().hex[:8]}")
    serve.run(build_application(settings), name=APP, route_prefix="/", blocking=False)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{serve_port}", headers={"X-API-Key": API_KEY}, timeout=30
    ) as client:

        async def ready() -> bool:
            try:
                return (await client.get("/readyz")).status_code == 200
            except httpx.HTTPError:
                return False

        await eventually(ready, 180, "the Serve application to answer /readyz")
        yield client
    serve.delete(APP)


async def _seed(client: httpx.AsyncClient, new_id) -> tuple[int, dict[str, list[int]]]:
    channel = -(10**12) - new_id()
    response = await client.post(
        "/api/v1/channels/", json={"telegram_id": channel, "username": f"sc{-channel}", "title": "Mixed"}
    )
    assert response.status_code in (200, 201), response.text
    now = datetime.now(UTC)
    texts = SPORT + MARKETS
    body = {
        "channel_telegram_id": channel,
        "posts": [
            {"telegram_message_id": n + 1, "text": text, "media_type": "text",
             "posted_at": (now - timedelta(hours=n)).isoformat()}
            for n, text in enumerate(texts)
        ],
    }
    response = await client.post("/api/v1/posts/bulk", json=body)
    ids = response.json()["post_ids"]
    user = 10**9 + new_id()
    await client.post("/api/v1/users/", json={"telegram_id": user, "username": None, "first_name": "S", "last_name": None})
    response = await client.post(
        "/api/v1/posts/training",
        json={"user_telegram_id": user, "channel_usernames": [f"sc{-channel}"], "posts_per_channel": 1},
    )
    assert response.status_code == 200, response.text
    return user, {"sport": ids[: len(SPORT)], "markets": ids[len(SPORT) :]}


async def test_best_and_train_go_through_the_scorer_and_learn_each_rating(
    served: httpx.AsyncClient, new_id
) -> None:
    from ray import serve

    user, ids = await _seed(served, new_id)
    for post_id, kind in ((ids["sport"][0], "like"), (ids["markets"][0], "dislike")):
        response = await served.post(
            "/api/v1/posts/interactions",
            json={"user_telegram_id": user, "post_id": post_id, "interaction_type": kind},
        )
        assert response.status_code == 200, response.text
    response = await served.post("/api/v1/ml/train", json={"user_telegram_id": user})
    assert response.json()["success"] is True and response.json()["ratings_count"] == 2

    response = await served.post("/api/v1/posts/best", json={"user_telegram_id": user, "limit": 6})
    page = [post["id"] for post in response.json()["posts"]]
    assert set(page[:3]) == set(ids["sport"][1:]), page
    assert ids["sport"][0] not in page and ids["markets"][0] not in page
    assert all(0.0 <= post["relevance_score"] <= 1.0 for post in response.json()["posts"])

    scorer = serve.get_deployment_handle("Scorer", app_name=APP)
    stats = await scorer.stats.remote()
    assert stats["models"] >= 1 and stats["posts"] >= len(SPORT + MARKETS), stats

    # the user changes their mind (rating again replaces a rating): the feed turns at once
    changes = [(ids["sport"][0], "dislike"), (ids["sport"][1], "dislike"), (ids["markets"][0], "like")]
    for post_id, kind in changes:
        response = await served.post(
            "/api/v1/posts/interactions",
            json={"user_telegram_id": user, "post_id": post_id, "interaction_type": kind},
        )
        assert response.status_code == 200, response.text
    response = await served.post("/api/v1/posts/best", json={"user_telegram_id": user, "limit": 3})
    page = [post["id"] for post in response.json()["posts"]]
    assert set(page) == set(ids["markets"][1:]), page


async def test_explain_goes_through_the_scorer_and_names_the_liked_post(served: httpx.AsyncClient, new_id) -> None:
    user, ids = await _seed(served, new_id)
    for post_id, kind in ((ids["sport"][0], "like"), (ids["markets"][0], "dislike")):
        await served.post("/api/v1/posts/interactions",
                          json={"user_telegram_id": user, "post_id": post_id, "interaction_type": kind})
    response = await served.post("/api/v1/posts/best", json={"user_telegram_id": user, "limit": 6})
    scores = {post["id"]: post["relevance_score"] for post in response.json()["posts"]}
    post = ids["sport"][1]
    response = await served.post("/api/v1/posts/explain", json={"user_telegram_id": user, "post_id": post})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["score"] == pytest.approx(scores[post], abs=1e-3)
    named = {named["id"] for reason in body["reasons"] for named in reason["posts"]}
    assert ids["sport"][0] in named, body
    missing = await served.post("/api/v1/posts/explain", json={"user_telegram_id": user, "post_id": 2**62})
    assert missing.status_code == 404 and missing.json()["detail"].startswith("post_id: "), missing.text


async def test_concurrent_feeds_each_get_their_own(served: httpx.AsyncClient, new_id) -> None:
    import asyncio

    users = []
    for taste, other in (("sport", "markets"), ("markets", "sport")):
        user, ids = await _seed(served, new_id)
        for post_id, kind in ((ids[taste][0], "like"), (ids[other][0], "dislike")):
            await served.post(
                "/api/v1/posts/interactions",
                json={"user_telegram_id": user, "post_id": post_id, "interaction_type": kind},
            )
        users.append((user, set(ids[taste][1:])))
    calls = [
        served.post("/api/v1/posts/best", json={"user_telegram_id": user, "limit": 3})
        for user, _ in users
        for _ in range(4)
    ]
    responses = await asyncio.gather(*calls)
    for index, response in enumerate(responses):
        user, wanted = users[index // 4]
        assert response.status_code == 200, response.text
        assert {post["id"] for post in response.json()["posts"]} == wanted


async def test_a_persons_dials_reach_the_scorer_replica(served: httpx.AsyncClient, new_id) -> None:
    """Dials ride with the ranking request across the deployment: "less" lowers the
    channel's scores at once, "never" leaves it out of the candidates."""
    user, ids = await _seed(served, new_id)
    for post_id, kind in ((ids["sport"][0], "like"), (ids["markets"][0], "dislike")):
        await served.post("/api/v1/posts/interactions",
                          json={"user_telegram_id": user, "post_id": post_id, "interaction_type": kind})
    channel = (await served.get(f"/api/v1/users/{user}/channels")).json()["channels"][0]["username"]

    async def scores() -> dict[int, float]:
        response = await served.post("/api/v1/posts/best", json={"user_telegram_id": user, "limit": 6})
        assert response.status_code == 200, response.text
        return {post["id"]: post["relevance_score"] for post in response.json()["posts"]}

    async def dial(value: str) -> None:
        response = await served.patch(f"/api/v1/users/{user}/rules", json={"channel_dials": {channel: value}})
        assert response.status_code == 200, response.text

    normal = await scores()
    assert normal
    await dial("less")
    less = await scores()
    assert less.keys() == normal.keys() and all(less[i] < normal[i] for i in normal), (normal, less)
    await dial("never")
    assert await scores() == {}
    await dial("normal")
    assert (await scores()).keys() == normal.keys()
