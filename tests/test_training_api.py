"""One training state through the API, on SQLite and PostgreSQL: the set, its order, its
progress from either client, how it ends; channels that take no slot twice; the chat's feed."""

from __future__ import annotations

import httpx

from ppb.config import Settings
from ppb.core.training import SETTLED_AFTER, interleave, settled_channels
from tests.test_miniapp_api import MINIAPP, seed_channel, tg_user, tma


async def person(api: httpx.AsyncClient, telegram_id: int) -> None:
    response = await api.post("/api/v1/users/", json={"telegram_id": telegram_id, "first_name": "Ann"})
    assert response.status_code in (200, 201), response.text


async def start(api: httpx.AsyncClient, telegram_id: int, channels: list[dict], **body: object) -> dict:
    names = [f"@{channel['username']}" for channel in channels]
    response = await api.post(f"/api/v1/users/{telegram_id}/training", json={"channels": names, **body})
    assert response.status_code == 200, response.text
    return response.json()


async def state(api: httpx.AsyncClient, telegram_id: int, limit: int = 100) -> dict:
    response = await api.get(f"/api/v1/users/{telegram_id}/training", params={"limit": limit})
    assert response.status_code == 200, response.text
    return response.json()


async def rate(api: httpx.AsyncClient, telegram_id: int, post_id: int, kind: str) -> None:
    body = {"user_telegram_id": telegram_id, "post_id": post_id, "interaction_type": kind}
    response = await api.post("/api/v1/posts/interactions", json=body)
    assert response.status_code == 200, response.text


def test_interleave_takes_one_post_of_each_channel_in_turn() -> None:
    rows = [{"id": i, "channel_id": c} for i, c in enumerate("aaabbc")]
    assert [row["channel_id"] for row in interleave(rows)] == list("abcaba")


def test_a_channel_settles_after_agreeing_ratings_only() -> None:
    def items(*kinds: str | None) -> list[dict]:
        return [{"channel_id": 1, "rating": kind} for kind in kinds]

    assert settled_channels(items(*["like"] * SETTLED_AFTER, None)) == {1}
    assert settled_channels(items(*["dislike"] * SETTLED_AFTER)) == {1}
    assert settled_channels(items(*["like"] * (SETTLED_AFTER - 1), "dislike")) == set()
    assert settled_channels(items(*["skip"] * SETTLED_AFTER)) == set()


async def test_the_set_mixes_channels_and_both_clients_count_the_same(api: httpx.AsyncClient, settings: Settings, new_id) -> None:
    telegram_id = new_id()
    await person(api, telegram_id)
    a, a_ids = await seed_channel(api, new_id, texts=["a1", "a2", "a3"])
    b, b_ids = await seed_channel(api, new_id, texts=["b1", "b2", "b3"])
    began = await start(api, telegram_id, [a, b], posts_per_channel=3)
    assert began["status"] == "training" and (began["done"], began["total"]) == (0, 6)
    order = [post["id"] for post in (await state(api, telegram_id))["posts"]]
    assert [("a" if i in a_ids else "b") for i in order] == list("ababab"), "channels interleaved"
    assert not began["can_finish"]

    await rate(api, telegram_id, order[0], "like")  # the chat
    headers = tma(settings, tg_user(telegram_id))
    deck = (await api.get(f"{MINIAPP}/posts", params={"mode": "training"}, headers=headers)).json()
    assert (deck["done"], deck["total"]) == (1, 6) and deck["posts"][0]["id"] == order[1]
    await api.post(f"{MINIAPP}/interactions", json={"post_id": order[1], "interaction_type": "dislike"}, headers=headers)
    now = await state(api, telegram_id)
    assert (now["done"], now["total"], now["remaining"]) == (2, 6, 4) and now["posts"][0]["id"] == order[2]


async def test_the_last_rating_in_either_client_completes_training(api: httpx.AsyncClient, settings: Settings, new_id) -> None:
    telegram_id = new_id()
    await person(api, telegram_id)
    channel, _ = await seed_channel(api, new_id, texts=["one", "two"])
    began = await start(api, telegram_id, [channel])
    headers = tma(settings, tg_user(telegram_id))
    for post in began["posts"]:
        response = await api.post(f"{MINIAPP}/interactions", json={"post_id": post["id"], "interaction_type": "like"},
                                  headers=headers)
        assert response.status_code == 200, response.text
    user = (await api.get(f"/api/v1/users/{telegram_id}")).json()
    assert user["status"] == "trained" and user["is_trained"], "the Mini App's last rating completes it"
    deck = (await api.get(f"{MINIAPP}/posts", params={"mode": "training"}, headers=headers)).json()
    assert deck["finished"] and deck["posts"] == [] and (deck["done"], deck["total"]) == (2, 2)
    feed = await api.post(f"/api/v1/users/{telegram_id}/events", json={"event": "view_feed"})
    assert feed.status_code == 200 and feed.json()["status"] == "active"


async def test_finishing_early_trains_and_completes(api: httpx.AsyncClient, settings: Settings, new_id) -> None:
    telegram_id = new_id()
    await person(api, telegram_id)
    channel, _ = await seed_channel(api, new_id, texts=[f"post {i}" for i in range(8)])
    began = await start(api, telegram_id, [channel], posts_per_channel=8)
    posts = (await state(api, telegram_id))["posts"]
    for post in posts[:5]:
        await rate(api, telegram_id, post["id"], "skip")
    assert (await state(api, telegram_id))["can_finish"]
    headers = tma(settings, tg_user(telegram_id))
    finished = await api.post(f"{MINIAPP}/training/finish", headers=headers, json={})
    assert finished.status_code == 200, finished.text
    assert finished.json()["finished"] and finished.json()["done"] == 5
    assert (await api.get(f"/api/v1/users/{telegram_id}")).json()["status"] == "trained"
    assert began["total"] == 8


async def test_a_settled_channel_leaves_the_set(api: httpx.AsyncClient, new_id) -> None:
    telegram_id = new_id()
    await person(api, telegram_id)
    a, a_ids = await seed_channel(api, new_id, texts=[f"a{i}" for i in range(6)])
    b, _ = await seed_channel(api, new_id, texts=[f"b{i}" for i in range(6)])
    await start(api, telegram_id, [a, b], posts_per_channel=6)
    liked = 0
    while liked < SETTLED_AFTER:
        post = (await state(api, telegram_id))["posts"][0]
        await rate(api, telegram_id, post["id"], "like" if post["id"] in a_ids else "skip")
        liked += post["id"] in a_ids
    now = await state(api, telegram_id)
    assert not {post["id"] for post in now["posts"]} & set(a_ids), "a's verdict is clear: its posts are dropped"
    assert now["total"] == now["done"] + now["remaining"] and now["total"] < 12


async def test_extending_a_training_and_an_already_followed_channel(api: httpx.AsyncClient, new_id) -> None:
    telegram_id = new_id()
    await person(api, telegram_id)
    a, _ = await seed_channel(api, new_id, texts=["a1", "a2"])
    b, b_ids = await seed_channel(api, new_id, texts=["b1", "b2"])
    await start(api, telegram_id, [a])
    added = await api.post(f"/api/v1/users/{telegram_id}/channels", json={"channel": b["username"], "is_bonus": True})
    assert added.status_code == 201 and added.json()["is_bonus"]
    extended = await start(api, telegram_id, [b], append=True)
    assert extended["total"] == 4 and extended["status"] == "training"
    again = await api.post(f"/api/v1/users/{telegram_id}/channels", json={"channel": a["username"], "is_bonus": True})
    assert again.status_code == 200 and not again.json()["is_bonus"], "a channel already followed takes no slot"
    assert (await api.get(f"/api/v1/users/{telegram_id}")).json()["bonus_channels_count"] == 1
    removed = await api.delete(f"/api/v1/users/{telegram_id}/channels/{b['username']}")
    assert removed.status_code == 204
    assert (await api.get(f"/api/v1/users/{telegram_id}")).json()["bonus_channels_count"] == 0, "the slot is free"
    assert not {post["id"] for post in (await state(api, telegram_id))["posts"]} & set(b_ids)


async def test_the_chats_feed_never_repeats_and_says_when_good_posts_ran_out(api: httpx.AsyncClient, new_id) -> None:
    telegram_id = new_id()
    await person(api, telegram_id)
    liked, liked_ids = await seed_channel(api, new_id, texts=[
        "Tomatoes love a sunny wall", "Prune roses after the frost", "Compost needs air and water",
        "Plant garlic cloves in October", "Slugs hate copper tape round the beds"])
    disliked, disliked_ids = await seed_channel(api, new_id, texts=[
        "Bond yields climb for a third week", "The central bank keeps its rate", "Oil futures slide on weak demand",
        "A chipmaker's shares jump on earnings", "Currency traders brace for jobs data"])
    began = await start(api, telegram_id, [liked, disliked], posts_per_channel=3)
    for post in (await state(api, telegram_id))["posts"]:
        await rate(api, telegram_id, post["id"], "like" if post["id"] in liked_ids else "dislike")
    assert (await api.get(f"/api/v1/users/{telegram_id}")).json()["status"] == "trained"
    assert began["total"] == 6
    first = (await api.post(f"/api/v1/users/{telegram_id}/feed", json={"limit": 3})).json()
    kinds = [post["from_disliked_channel"] for post in first["posts"]]
    assert kinds == [False, False, True] and first["others"] == 1, "the good posts first, then the rest, marked"
    assert {post["id"] for post in first["posts"][:2]} <= set(liked_ids)
    second = (await api.post(f"/api/v1/users/{telegram_id}/feed", json={"limit": 3})).json()
    assert second["others"] == 1 and len(second["posts"]) == 1
    assert not {p["id"] for p in first["posts"]} & {p["id"] for p in second["posts"]}, "never sent twice"
    assert (await api.post(f"/api/v1/users/{telegram_id}/feed", json={"limit": 3})).json()["posts"] == []


async def test_the_chats_feed_goes_on_past_a_hundred_unrated_posts(api: httpx.AsyncClient, new_id) -> None:
    """Reading without rating: every post of the channel comes, page after page, far past
    the hundred a client once asked for and filtered itself (then "you've seen everything")."""
    import random

    telegram_id = new_id()
    await person(api, telegram_id)
    words = random.Random(7).choices(WORDS, k=130 * 4)
    texts = [f"Note {index}: {' '.join(words[4 * index: 4 * index + 4])} and more" for index in range(130)]
    channel_id = -1000000000000 - new_id()
    channel = (await api.post("/api/v1/channels/", json={
        "telegram_id": channel_id, "username": f"many{channel_id % 10**9}", "title": "Many"})).json()
    posts = [{"telegram_message_id": 1 + index, "text": text, "media_type": "text",
              "posted_at": f"2024-03-{1 + index // 24:02d}T{index % 24:02d}:00:00Z"} for index, text in enumerate(texts)]
    ids = (await api.post("/api/v1/posts/bulk", json={"channel_telegram_id": channel_id, "posts": posts})).json()["post_ids"]
    await start(api, telegram_id, [channel], posts_per_channel=2)
    for post in (await state(api, telegram_id))["posts"]:
        await rate(api, telegram_id, post["id"], "like")
    assert (await api.get(f"/api/v1/users/{telegram_id}")).json()["status"] == "trained"
    seen: list[int] = []
    for _ in range(10):
        page = (await api.post(f"/api/v1/users/{telegram_id}/feed", json={"limit": 20})).json()["posts"]
        if not page:
            break
        seen += [post["id"] for post in page]
    assert len(seen) == len(set(seen)), "never sent twice"
    assert len(seen) > 100, f"the feed stopped after {len(seen)} posts"
    assert set(seen) <= set(ids)


WORDS = ("apple harbour violin granite meadow lantern copper falcon orchid glacier canyon velvet "
         "thunder saffron maple compass ember quartz willow beacon nectar pebble summit tundra "
         "cobalt dune fjord juniper lotus marble nimbus opal prairie quill raven sierra topaz "
         "umber vortex wren yarrow zephyr acorn birch cedar delta echo fern grove heron iris jade "
         "kelp lichen moss nettle oak pine reed sage thistle vine wheat yew alder basil clover "
         "dahlia elm fig ginger hazel ivy jasmine kale lilac mint nutmeg olive poppy quince rose "
         "sorrel tulip ume violet walnut xylem yucca zinnia amber bronze crimson denim ebony "
         "fuchsia gold hazelnut indigo jet khaki lemon magenta navy ochre pearl ruby scarlet teal").split()


async def test_linking_a_channel_ppb_lacks_is_409_and_a_missing_user_404(api: httpx.AsyncClient, new_id) -> None:
    """404 is for the user the path names; a channel the store lacks yet is a state the same
    request outlives (409), which the bot's REST client reads as the NotFound it gets in process."""
    from ppb.bot.api import HttpPpb
    from ppb.domain.errors import NotFound

    telegram_id = new_id()
    await person(api, telegram_id)
    lacking = await api.post(f"/api/v1/users/{telegram_id}/channels", json={"channel": f"@nosuch{new_id()}"})
    assert lacking.status_code == 409 and lacking.json()["detail"].startswith("channel: PPB has no channel @nosuch")
    nobody = await api.post(f"/api/v1/users/{new_id()}/channels", json={"channel": "@nosuchchannel"})
    assert nobody.status_code == 404 and nobody.json()["detail"].startswith("user ")
    client = HttpPpb("http://127.0.0.1", None)
    client._http = httpx.AsyncClient(transport=api._transport, headers=api.headers,  # the same app
                                     base_url=str(api.base_url).rstrip("/") + "/api/v1")
    try:
        await client.add_channel(telegram_id, f"@nosuch{new_id()}", bonus=True)
    except NotFound as error:
        assert "PPB has no channel" in error.detail
    else:
        raise AssertionError("expected NotFound")
    finally:
        await client._http.aclose()
