"""The seven contract calls with the original architecture's own payloads, field by field."""

from __future__ import annotations

import asyncio
from datetime import datetime

import httpx
import pytest

USER_FIELDS = {"id", "telegram_id", "username", "status", "is_trained", "bonus_channels_count"}
CHANNEL_FIELDS = {"id", "telegram_id", "username", "title", "is_default"}
TRAINING_POST_FIELDS = {
    "id", "channel_username", "channel_title", "text", "media_type", "posted_at", "telegram_message_id",
}
INTERACTION_FIELDS = {"id", "user_id", "post_id", "interaction_type", "created_at"}
BEST_POST_FIELDS = {"id", "text", "channel_title", "relevance_score"}


def iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def make_channel(api: httpx.AsyncClient, telegram_id: int, username: str, title: str) -> dict:
    response = await api.post(
        "/api/v1/channels/", json={"telegram_id": telegram_id, "username": username, "title": title}
    )
    assert response.status_code in (200, 201), response.text
    return response.json()


async def test_register_user_as_in_the_original(api: httpx.AsyncClient, new_id) -> None:
    telegram_id = new_id()
    payload = {"telegram_id": telegram_id, "username": "john_doe", "first_name": "John", "last_name": "Doe"}
    response = await api.post("/api/v1/users/", json=payload)
    assert response.status_code == 201
    body = response.json()
    assert USER_FIELDS <= body.keys()
    assert body["telegram_id"] == telegram_id
    assert body["username"] == "john_doe"
    assert body["status"] == "new"
    assert body["is_trained"] is False
    assert body["bonus_channels_count"] == 0
    assert isinstance(body["id"], int)

    fetched = await api.get(f"/api/v1/users/{telegram_id}")
    assert fetched.status_code == 200
    assert {key: fetched.json()[key] for key in USER_FIELDS} == {key: body[key] for key in USER_FIELDS}


async def test_register_channel_as_in_the_original(api: httpx.AsyncClient, new_id) -> None:
    telegram_id = -1000000000000 - new_id()
    username = f"durov{telegram_id % 10**6}"
    response = await api.post(
        "/api/v1/channels/",
        json={"telegram_id": telegram_id, "username": f"@{username.upper()}", "title": "Durov's Channel"},
    )
    assert response.status_code == 201
    body = response.json()
    assert CHANNEL_FIELDS <= body.keys()
    assert body["telegram_id"] == telegram_id
    assert body["username"] == username  # stored without @, lower case
    assert body["title"] == "Durov's Channel"
    assert body["is_default"] is False

    renamed = await api.post(
        "/api/v1/channels/", json={"telegram_id": telegram_id, "username": username, "title": "New title"}
    )
    assert renamed.status_code == 200
    assert renamed.json()["id"] == body["id"]
    assert renamed.json()["title"] == "New title"

    listed = await api.get("/api/v1/channels/")
    assert any(channel["id"] == body["id"] for channel in listed.json()["channels"])


async def test_training_flow_with_the_original_payloads(api: httpx.AsyncClient, new_id) -> None:
    user = new_id()
    channel_id = -1000000000000 - new_id()
    username = f"durov{new_id()}"
    await api.post("/api/v1/users/", json={"telegram_id": user, "username": "john_doe"})
    await make_channel(api, channel_id, username, "Durov's Channel")

    bulk = await api.post(
        "/api/v1/posts/bulk",
        json={
            "channel_telegram_id": channel_id,
            "posts": [
                {
                    "telegram_message_id": 12345,
                    "text": "Post content...",
                    "media_type": "photo",
                    "posted_at": "2024-01-15T10:30:00Z",
                }
            ],
        },
    )
    assert bulk.status_code == 200
    assert bulk.json().keys() >= {"created_count", "post_ids"}
    assert bulk.json()["created_count"] == 1
    [post_id] = bulk.json()["post_ids"]

    training = await api.post(
        "/api/v1/posts/training",
        json={"user_telegram_id": user, "channel_usernames": [f"@{username}"], "posts_per_channel": 7},
    )
    assert training.status_code == 200
    [post] = training.json()["posts"]
    assert TRAINING_POST_FIELDS <= post.keys()
    assert post["id"] == post_id
    assert post["channel_username"] == username
    assert post["channel_title"] == "Durov's Channel"
    assert post["text"] == "Post content..."
    assert post["media_type"] == "photo"
    assert iso(post["posted_at"]) == iso("2024-01-15T10:30:00Z")
    assert post["telegram_message_id"] == 12345

    channels = await api.get(f"/api/v1/users/{user}/channels")
    [linked] = channels.json()["channels"]
    assert linked["username"] == username and linked["is_for_training"] is True

    rating = await api.post(
        "/api/v1/posts/interactions",
        json={"user_telegram_id": user, "post_id": post_id, "interaction_type": "like"},
    )
    assert rating.status_code == 200
    body = rating.json()
    assert INTERACTION_FIELDS <= body.keys()
    assert body["post_id"] == post_id
    assert body["interaction_type"] == "like"
    assert iso(body["created_at"]).tzinfo is not None
    user_row = (await api.get(f"/api/v1/users/{user}")).json()
    assert body["user_id"] == user_row["id"]

    again = await api.post(
        "/api/v1/posts/interactions",
        json={"user_telegram_id": user, "post_id": post_id, "interaction_type": "dislike"},
    )
    assert again.json()["id"] == body["id"]
    assert again.json()["interaction_type"] == "dislike"
    history = (await api.get(f"/api/v1/posts/interactions/{user}")).json()["interactions"]
    assert [(item["post_id"], item["interaction_type"]) for item in history] == [(post_id, "dislike")]

    trained = await api.post("/api/v1/ml/train", json={"user_telegram_id": user})
    assert trained.status_code == 200
    result = trained.json()
    assert result.keys() >= {"success", "message", "training_time"}
    assert result["success"] is True
    assert result["message"] == "Model trained successfully"
    assert isinstance(result["training_time"], float) and result["training_time"] > 0  # seconds spent

    best = await api.post("/api/v1/posts/best", json={"user_telegram_id": user, "limit": 1})
    assert best.status_code == 200
    assert best.json() == {"posts": []}  # the only post is rated: never shown again


async def test_best_returns_contract_fields_and_excludes_rated(api: httpx.AsyncClient, new_id) -> None:
    user = new_id()
    channel_id = -1000000000000 - new_id()
    username = f"technews{new_id()}"
    await api.post("/api/v1/users/", json={"telegram_id": user})
    await make_channel(api, channel_id, username, "Tech News")
    texts = [
        "Rocket engines: a static fire test of the new methane engine went well",
        "Our review of the five best budget phones of the year",
        "Why the new browser release is faster on old laptops",
        "Chip makers report record demand for data centre processors",
        "A guide to backing up your photos before switching phones",
    ]
    bulk = await api.post(
        "/api/v1/posts/bulk",
        json={
            "channel_telegram_id": channel_id,
            "posts": [
                {"telegram_message_id": n + 1, "text": text, "posted_at": f"2024-01-1{n}T10:00:00Z"}
                for n, text in enumerate(texts)
            ],
        },
    )
    ids = bulk.json()["post_ids"]
    await api.post(
        "/api/v1/posts/training",
        json={"user_telegram_id": user, "channel_usernames": [username], "posts_per_channel": 2},
    )
    await api.post(
        "/api/v1/posts/interactions",
        json={"user_telegram_id": user, "post_id": ids[0], "interaction_type": "like"},
    )
    best = await api.post("/api/v1/posts/best", json={"user_telegram_id": user, "limit": 10})
    posts = best.json()["posts"]
    assert posts, best.text
    for post in posts:
        assert BEST_POST_FIELDS <= post.keys()
        assert post["channel_title"] == "Tech News"
        assert 0.0 <= post["relevance_score"] <= 1.0
    assert ids[0] not in {post["id"] for post in posts}
    scores = [post["relevance_score"] for post in posts]
    assert scores == sorted(scores, reverse=True)


async def test_concurrent_duplicate_users_make_one_row(api: httpx.AsyncClient, new_id) -> None:
    telegram_id = new_id()
    responses = await asyncio.gather(
        *[api.post("/api/v1/users/", json={"telegram_id": telegram_id}) for _ in range(12)]
    )
    assert sorted(r.status_code for r in responses) == [200] * 11 + [201]
    assert len({r.json()["id"] for r in responses}) == 1


async def test_posts_bulk_is_idempotent_even_concurrently(api: httpx.AsyncClient, new_id) -> None:
    channel_id = -1000000000000 - new_id()
    await make_channel(api, channel_id, f"bulk{new_id()}", "Bulk")
    posts = [
        {"telegram_message_id": n, "text": f"post {n}", "posted_at": "2024-02-01T00:00:00+03:00"}
        for n in range(1, 31)
    ]
    payload = {"channel_telegram_id": channel_id, "posts": posts}
    first, *others = await asyncio.gather(*[api.post("/api/v1/posts/bulk", json=payload) for _ in range(6)])
    results = [first.json()] + [other.json() for other in others]
    assert sum(result["created_count"] for result in results) == 30
    assert all(result["post_ids"] == results[0]["post_ids"] for result in results)
    assert len(set(results[0]["post_ids"])) == 30

    resent = await api.post("/api/v1/posts/bulk", json=payload)
    assert resent.json() == {"created_count": 0, "post_ids": results[0]["post_ids"]}

    mixed = await api.post(
        "/api/v1/posts/bulk",
        json={
            "channel_telegram_id": channel_id,
            "posts": [posts[0], {"telegram_message_id": 99, "posted_at": "2024-02-02T00:00:00Z"}, posts[0]],
        },
    )
    body = mixed.json()
    assert body["created_count"] == 1
    assert body["post_ids"][0] == body["post_ids"][2] == results[0]["post_ids"][0]


async def test_training_with_the_seeds_payload_answers_the_known_channels(api: httpx.AsyncClient, new_id) -> None:
    """The original bot asks for `["@durov", "@telegram", "@user_channel"]` whether or not PPB
    has each: the known channels' posts come back (200), the unknown ones are listed."""
    user = new_id()
    await api.post("/api/v1/users/", json={"telegram_id": user})
    telegram_id = -1000000000000 - new_id()
    known = f"known{telegram_id % 10**8}"
    await make_channel(api, telegram_id, known, "Known")
    bulk = await api.post("/api/v1/posts/bulk", json={"channel_telegram_id": telegram_id, "posts": [
        {"telegram_message_id": 1, "text": "hello", "media_type": "text", "posted_at": "2024-01-15T10:30:00Z"}]})
    [post_id] = bulk.json()["post_ids"]
    missing = f"@missing{new_id()}"
    response = await api.post("/api/v1/posts/training", json={
        "user_telegram_id": user, "channel_usernames": [f"@{known}", missing, "@user_channel_x"], "posts_per_channel": 7})
    assert response.status_code == 200, response.text
    body = response.json()
    assert [post["id"] for post in body["posts"]] == [post_id]
    assert TRAINING_POST_FIELDS <= body["posts"][0].keys()
    assert body["unknown_channels"] == [missing, "@user_channel_x"]
    [linked] = (await api.get(f"/api/v1/users/{user}/channels")).json()["channels"]
    assert linked["username"] == known


async def test_bulk_posts_take_bot_api_entities_and_answer_their_formatting_as_html(api: httpx.AsyncClient, new_id) -> None:
    channel_id = -1000000000000 - new_id()
    username = f"fmt{channel_id % 10**9}"
    await make_channel(api, channel_id, username, "Formats")
    text = "🚀 New: <fast> & safe — docs"
    rocket = 2  # "🚀" is two UTF-16 code units
    bulk = await api.post("/api/v1/posts/bulk", json={"channel_telegram_id": channel_id, "posts": [
        {"telegram_message_id": 1, "text": text, "posted_at": "2024-01-15T10:30:00Z",
         "html": "<script>alert(1)</script>",  # never taken from a client
         "entities": [{"type": "bold", "offset": rocket + 1, "length": 4},
                      {"type": "text_link", "offset": len(text) + 1 - 4, "length": 4, "url": "https://example.org/d?a=1&b=2"}]},
        {"telegram_message_id": 2, "text": "plain <b>", "posted_at": "2024-01-15T10:31:00Z", "html": "<b>x</b>"},
    ]})
    assert bulk.status_code == 200, bulk.text
    user = new_id()
    await api.post("/api/v1/users/", json={"telegram_id": user})
    training = await api.post("/api/v1/posts/training",
                              json={"user_telegram_id": user, "channel_usernames": [f"@{username}"]})
    by_id = {post["telegram_message_id"]: post for post in training.json()["posts"]}
    assert by_id[1]["text"] == text
    assert by_id[1]["html"] == ('🚀 <b>New:</b> &lt;fast&gt; &amp; safe — '
                                '<a href="https://example.org/d?a=1&amp;b=2">docs</a>')
    assert by_id[2]["html"] is None


async def test_wrong_entities_are_a_422_naming_the_field_and_the_reason(api: httpx.AsyncClient, new_id) -> None:
    channel_id = -1000000000000 - new_id()
    await make_channel(api, channel_id, f"bad{channel_id % 10**9}", "Bad formats")
    cases = [
        ({"type": "blink", "offset": 0, "length": 1}, "posts[0].entities[0].type", "unknown type 'blink'"),
        ({"type": "bold", "offset": 0, "length": 20}, "posts[0].entities[0].length",
         "ends at 20, past the end of the text (the text is 8 UTF-16 code units long)"),
        ({"type": "bold", "offset": 9, "length": 1}, "posts[0].entities[0].offset", "past the end of the text"),
        ({"type": "bold", "offset": 1, "length": 2}, "posts[0].entities[0].offset", "cuts a character in two"),
        ({"type": "text_link", "offset": 0, "length": 2, "url": "javascript:alert(1)"}, "posts[0].entities[0].url",
         "must be an http, https or tg link"),
        ({"type": "text_link", "offset": 0, "length": 2}, "posts[0].entities[0].url", "is required for a text_link"),
        ({"type": "pre", "offset": 0, "length": 2, "language": "py\"><x"}, "posts[0].entities[0].language",
         "must be a language name"),
        ({"type": "bold", "offset": -1, "length": 1}, "posts[0].entities[0].offset", "greater than or equal to 0"),
    ]
    for entity, field, reason in cases:
        response = await api.post("/api/v1/posts/bulk", json={"channel_telegram_id": channel_id, "posts": [
            {"telegram_message_id": 1, "text": "🚀 x <y>", "posted_at": "2024-01-15T10:30:00Z", "entities": [entity]}]})
        assert response.status_code == 422, (entity, response.text)
        detail = response.json()["detail"]
        assert detail.startswith(f"{field}: ") and reason in detail, (entity, detail)


async def test_explain_names_the_liked_post_and_its_errors_name_the_field(api: httpx.AsyncClient, store, new_id) -> None:
    user = new_id()
    channel_id = -1000000000000 - new_id()
    username = f"explained{new_id()}"
    await api.post("/api/v1/users/", json={"telegram_id": user})
    await make_channel(api, channel_id, username, "Explained")
    texts = [
        "Rocket engines: a static fire test of the new methane rocket engine went well",
        "Rocket launch: the methane rocket engine lifts the new rocket to orbit",
        "Our review of the five best budget phones of the year",
        "A guide to backing up your photos before switching phones",
        "Rocket engines of the year: methane engines for every new rocket",
    ]
    bulk = await api.post("/api/v1/posts/bulk", json={"channel_telegram_id": channel_id, "posts": [
        {"telegram_message_id": n + 1, "text": text, "posted_at": f"2024-01-1{n}T10:00:00Z"} for n, text in enumerate(texts)]})
    ids = bulk.json()["post_ids"]
    await api.post("/api/v1/posts/training",
                   json={"user_telegram_id": user, "channel_usernames": [username], "posts_per_channel": 2})
    for post_id, kind in ((ids[0], "like"), (ids[2], "dislike")):
        await api.post("/api/v1/posts/interactions", json={"user_telegram_id": user, "post_id": post_id, "interaction_type": kind})
    best = await api.post("/api/v1/posts/best", json={"user_telegram_id": user, "limit": 10})
    scores = {post["id"]: post["relevance_score"] for post in best.json()["posts"]}

    response = await api.post("/api/v1/posts/explain", json={"user_telegram_id": user, "post_id": ids[1]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["post_id"] == ids[1] and body["learned"] is True
    assert body["score"] == pytest.approx(scores[ids[1]], abs=1e-3)
    quoted = [post for reason in body["reasons"] for post in reason["posts"]]
    assert {"id": ids[0], "quote": texts[0]} in quoted, body  # short enough to quote whole
    assert {"text", "liked", "peers", "recency", "dial"} <= body["terms"].keys()

    rules = await api.patch(f"/api/v1/users/{user}/rules",
                            json={"must_words": ["orbit"], "channel_dials": {username: "more"}})
    assert rules.status_code == 200, rules.text
    await api.post("/api/v1/posts/best", json={"user_telegram_id": user, "limit": 10})  # the page with the dial
    steered = (await api.post("/api/v1/posts/explain", json={"user_telegram_id": user, "post_id": ids[1]})).json()
    assert steered["reasons"][0] == {"kind": "must", "contribution": 0.0, "posts": [], "detail": "orbit"}, steered
    assert {"kind": "dial", "contribution": 1.0, "posts": [], "detail": f"@{username}"} in steered["reasons"], steered
    assert steered["score"] > body["score"], "the dial lifted it"

    cases = [
        ({"user_telegram_id": user, "post_id": "1"}, 422, "post_id: "),
        ({"user_telegram_id": user, "post_id": 0}, 422, "post_id: "),
        ({"post_id": ids[1]}, 422, "user_telegram_id: "),
        ({"user_telegram_id": user, "post_id": 2**62}, 404, "post_id: "),
        ({"user_telegram_id": new_id(), "post_id": ids[1]}, 404, "user "),
    ]
    for payload, status, start in cases:
        response = await api.post("/api/v1/posts/explain", json=payload)
        assert response.status_code == status, (payload, response.text)
        assert response.json()["detail"].startswith(start), (payload, response.text)
    bad_surface = await api.post("/api/v1/posts/explain", json={"user_telegram_id": user, "post_id": ids[1], "surface": "fax"})
    assert bad_surface.status_code == 422 and bad_surface.json()["detail"].startswith("surface: ")
    from_chat = await api.post("/api/v1/posts/explain", json={"user_telegram_id": user, "post_id": ids[3], "surface": "chat"})
    assert from_chat.status_code == 200, from_chat.text
    chat_lead = from_chat.json()["reasons"][0]["kind"] if from_chat.json()["reasons"] else "none"
    given = [(row["post_id"], row["lead"], row["surface"]) for row in await store.explanations_of(await store.user_id(user))]
    assert given == [(ids[1], body["reasons"][0]["kind"], "api"), (ids[1], "must", "api"), (ids[3], chat_lead, "chat")], \
        "each explanation given is kept with its lead reason, the refused ones are not"


async def test_the_feed_shows_a_story_once_with_the_other_channels_it_appeared_in(api: httpx.AsyncClient, new_id) -> None:
    user = new_id()
    await api.post("/api/v1/users/", json={"telegram_id": user})
    story = "Breaking: the city bridge reopens after two years of repairs, the mayor announced today"
    names = []
    for n, extra in enumerate(["A recipe for sourdough bread with a long cold proof", "Chess: the final round ends in a draw"]):
        channel_id, username = -1000000000000 - new_id(), f"copies{new_id()}"
        await make_channel(api, channel_id, username, f"Copies {n}")
        await api.post("/api/v1/posts/bulk", json={"channel_telegram_id": channel_id, "posts": [
            {"telegram_message_id": k + 1, "text": text, "posted_at": f"2024-03-0{n + 1}T10:0{k}:00Z"}
            for k, text in enumerate([story, extra])]})
        names.append(username)
    await api.post("/api/v1/posts/training", json={"user_telegram_id": user, "channel_usernames": names, "posts_per_channel": 1})
    page = await api.post(f"/api/v1/users/{user}/feed", json={"limit": 5})
    assert page.status_code == 200, page.text
    posts = page.json()["posts"]
    told = [post for post in posts if post["text"] == story]
    assert len(told) == 1, posts
    other = names[1] if told[0]["channel_username"] == names[0] else names[0]
    assert told[0]["also_in"] == [{"post_id": told[0]["also_in"][0]["post_id"], "channel_title": told[0]["also_in"][0]["channel_title"],
                                   "channel_username": other, "url": f"https://t.me/{other}/1"}]
    assert all(post["also_in"] == [] for post in posts if post["text"] != story)
