"""Channel dials and must-see words through the API (and the Mini App), on SQLite and
PostgreSQL: what is kept, the 422s naming the field, "never" on every path, "more" and
"less" moving a channel's posts at once, a must-see post first."""

from __future__ import annotations

import httpx

from ppb.config import Settings
from tests.test_miniapp_api import MINIAPP, seed_channel, send_without_api_key, tg_user, tma
from tests.test_training_api import person, rate, start, state

TECH = ["Python release notes: a faster interpreter for developers", "Linux kernel drivers for developers",
        "PostgreSQL query planner news for developers", "Rust compiler builds faster for developers",
        "Go tooling update for developers", "A new JIT compiler for developers"]
GARDEN = ["Planting tomatoes in spring soil", "Pruning roses after the frost", "Watering a lawn in summer heat",
          "Composting kitchen scraps for the garden", "Growing basil on a sunny windowsill",
          "Mulching flower beds before winter"]


async def dials(api: httpx.AsyncClient, telegram_id: int, body: dict) -> httpx.Response:
    return await api.patch(f"/api/v1/users/{telegram_id}/rules", json=body)


async def test_dials_are_kept_by_channel_changed_one_by_one_and_refused_with_the_field(
        api: httpx.AsyncClient, new_id) -> None:
    telegram_id = new_id()
    await person(api, telegram_id)
    first, _ = await seed_channel(api, new_id, texts=["one"])
    second, _ = await seed_channel(api, new_id, texts=["two"])
    changed = await dials(api, telegram_id, {"channel_dials": {f"@{first['username'].upper()}": "more",
                                                               f"t.me/{second['username']}": "never"},
                                             "must_words": [" Release ", "релиз", "release"]})
    assert changed.status_code == 200, changed.text
    assert changed.json()["must_words"] == ["Release", "релиз"]
    assert {d["channel"]: d["dial"] for d in changed.json()["channel_dials"]} == {
        first["username"]: "more", second["username"]: "never"}
    only_one = await dials(api, telegram_id, {"channel_dials": {str(first["telegram_id"]): "normal"}})
    assert [(d["channel"], d["title"], d["dial"]) for d in only_one.json()["channel_dials"]] == [
        (second["username"], second["title"], "never")], "normal clears a dial; the others stay"
    kept = (await api.get(f"/api/v1/users/{telegram_id}/rules")).json()
    assert kept["channel_dials"] == only_one.json()["channel_dials"] and kept["must_words"] == ["Release", "релиз"]

    cases = {
        f"channel_dials.{first['username']}": ({"channel_dials": {first["username"]: "sometimes"}}, "more"),
        "channel_dials.@nosuchchannel9": ({"channel_dials": {"@nosuchchannel9": "less"}}, "unknown channel"),
        "channel_dials.not a channel": ({"channel_dials": {"not a channel": "less"}}, "is not a channel"),
        "must_words[0]": ({"must_words": ["  ", "ok"]}, "empty"),
        "must_words": ({"must_words": None}, "null"),
    }
    for field, (body, reason) in cases.items():
        response = await dials(api, telegram_id, body)
        assert response.status_code == 422, (field, response.text)
        detail = response.json()["detail"]
        assert detail.startswith(field) and reason in detail, (field, detail)
    assert (await api.get(f"/api/v1/users/{telegram_id}/rules")).json() == kept, "a refused change changes nothing"


async def test_a_channel_dialled_to_never_reaches_the_person_through_no_path(
        api: httpx.AsyncClient, settings: Settings, new_id) -> None:
    telegram_id = new_id()
    await person(api, telegram_id)
    tech, _ = await seed_channel(api, new_id, texts=TECH)
    garden, garden_ids = await seed_channel(api, new_id, texts=GARDEN)
    began = await start(api, telegram_id, [tech, garden], posts_per_channel=3)
    for post in (await state(api, telegram_id))["posts"][:4]:
        await rate(api, telegram_id, post["id"], "like")
    assert (await dials(api, telegram_id, {"channel_dials": {garden["username"]: "never"}})).status_code == 200
    hidden = set(garden_ids)
    assert not {post["id"] for post in (await state(api, telegram_id))["posts"]} & hidden, began
    training = await api.post("/api/v1/posts/training", json={
        "user_telegram_id": telegram_id, "channel_usernames": [f"@{garden['username']}"], "posts_per_channel": 10})
    assert training.status_code == 200 and not {post["id"] for post in training.json()["posts"]} & hidden
    best = await api.post("/api/v1/posts/best", json={"user_telegram_id": telegram_id, "limit": 20})
    assert best.json()["posts"] and not {post["id"] for post in best.json()["posts"]} & hidden
    headers = tma(settings, tg_user(telegram_id))
    for mode in ("training", "feed"):
        cards = await send_without_api_key(api, "GET", f"{MINIAPP}/posts", params={"mode": mode}, headers=headers)
        assert cards.status_code == 200 and not {card["id"] for card in cards.json()["posts"]} & hidden, mode
    feed = await api.post(f"/api/v1/users/{telegram_id}/feed", json={"limit": 20})
    assert feed.status_code == 200 and feed.json()["posts"] and not {p["id"] for p in feed.json()["posts"]} & hidden
    back = await send_without_api_key(api, "PATCH", f"{MINIAPP}/rules", headers=headers,
                                      json={"channel_dials": {garden["username"]: "normal"}})
    assert back.status_code == 200, back.text
    assert {(d["channel"], d["dial"]) for d in back.json()["channel_dials"]} == {
        (tech["username"], "normal"), (garden["username"], "normal")}, "the person's channels, each with its dial"
    best = await api.post("/api/v1/posts/best", json={"user_telegram_id": telegram_id, "limit": 20})
    assert {post["id"] for post in best.json()["posts"]} & hidden, "normal again: the channel is back at once"


async def test_more_and_less_move_a_channels_posts_at_once_and_a_must_see_post_comes_first(
        api: httpx.AsyncClient, new_id) -> None:
    telegram_id = new_id()
    await person(api, telegram_id)
    tech, tech_ids = await seed_channel(api, new_id, texts=TECH)
    garden, garden_ids = await seed_channel(api, new_id, texts=GARDEN)
    await start(api, telegram_id, [tech, garden], posts_per_channel=2)
    for post in (await state(api, telegram_id))["posts"]:
        await rate(api, telegram_id, post["id"], "like" if post["id"] in tech_ids else "dislike")

    async def scores() -> dict[int, float]:
        best = await api.post("/api/v1/posts/best", json={"user_telegram_id": telegram_id, "limit": 20})
        assert best.status_code == 200, best.text
        return {post["id"]: post["relevance_score"] for post in best.json()["posts"]}

    normal = await scores()
    garden_left = [i for i in garden_ids if i in normal]
    assert garden_left and [i for i in tech_ids if i in normal]
    await dials(api, telegram_id, {"channel_dials": {garden["username"]: "more"}})
    more = await scores()
    assert all(more[i] > normal[i] for i in garden_left), (normal, more)
    await dials(api, telegram_id, {"channel_dials": {garden["username"]: "less"}})
    less = await scores()
    assert all(less[i] < normal[i] for i in garden_left), (normal, less)

    await dials(api, telegram_id, {"channel_dials": {garden["username"]: "normal"}, "must_words": ["LAWN"]})
    lawn = garden_ids[GARDEN.index("Watering a lawn in summer heat")]  # not in the training (rated)
    best = await api.post("/api/v1/posts/best", json={"user_telegram_id": telegram_id, "limit": 20})
    assert best.json()["posts"][0]["id"] == lawn, "a must-see post leads, though its channel is disliked"
    feed = await api.post(f"/api/v1/users/{telegram_id}/feed", json={"limit": 3})
    assert feed.json()["posts"][0]["id"] == lawn
