"""The admin API on SQLite and PostgreSQL: who may call it, analytics, administration
with its log, erasure, and A/B experiments from assignment to results."""

from __future__ import annotations

import httpx
import pytest
import sqlalchemy as sa

from ppb.compose.web import http_app as build_app
from ppb.config import Settings
from ppb.http.services import Services
from ppb.store.admin import user_tables
from ppb.store.console_schema import admin_actions
from tests.conftest import API_KEY
from tests.test_miniapp_api import seed_channel, tg_user, tma
from tests.test_training_api import person, rate, start

ADMIN = "/api/v1/admin"
DISTINCT = ["Rust 2.0 released", "Cats sleep sixteen hours", "Elections: the results", "New phone review",
            "Recipe: borscht", "Mars rover finds ice", "Football cup final", "Jazz festival opens"]
"""Texts far apart: near-duplicates of a rated post are never ranked (DESIGN section 7)."""


@pytest.fixture
async def anonymous(settings: Settings, services: Services):
    """A client of the same app without the API key (a browser, say)."""
    transport = httpx.ASGITransport(app=build_app(settings, services))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        yield client


async def stop_running(api: httpx.AsyncClient) -> None:
    """Tests share a database: stop whatever experiment an earlier test left running."""
    for experiment in (await api.get(f"{ADMIN}/experiments")).json()["experiments"]:
        if experiment["state"] == "running":
            assert (await api.post(f"{ADMIN}/experiments/{experiment['id']}/stop")).status_code == 200


async def trained(api: httpx.AsyncClient, new_id, channel: dict, train_ids: list[int]) -> int:
    """A person who rated `train_ids` in training and finished it; returns the telegram id."""
    telegram_id = new_id()
    await person(api, telegram_id)
    await start(api, telegram_id, [channel], posts_per_channel=len(train_ids))
    for post_id in train_ids:
        await rate(api, telegram_id, post_id, "like")
    finished = await api.post(f"/api/v1/users/{telegram_id}/training/finish", json={})
    assert finished.status_code == 200, finished.text
    return telegram_id


async def feed(api: httpx.AsyncClient, telegram_id: int, limit: int) -> list[int]:
    response = await api.post(f"/api/v1/users/{telegram_id}/feed", json={"limit": limit})
    assert response.status_code == 200, response.text
    return [post["id"] for post in response.json()["posts"]]


async def test_without_key_or_session_nothing_is_shown(anonymous: httpx.AsyncClient) -> None:
    for path in ("/users", "/analytics/overview", "/experiments", "/actions", "/session"):
        response = await anonymous.get(ADMIN + path)
        assert response.status_code == 401, path
        assert response.json()["status_code"] == 401 and "X-API-Key" in response.json()["detail"]
    wrong = await anonymous.get(f"{ADMIN}/users", headers={"X-API-Key": "nope"})
    assert wrong.status_code == 401


async def test_no_api_key_configured_closes_the_admin_api(database_url: str, services: Services) -> None:
    from ppb.config import load_settings

    app = build_app(load_settings(DATABASE_URL=database_url), services)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as client:
        response = await client.get(f"{ADMIN}/users")
        assert response.status_code == 403 and "PPB_API_KEY" in response.json()["detail"]


async def test_login_gives_a_strict_httponly_cookie_and_changes_need_the_csrf_token(anonymous: httpx.AsyncClient, api: httpx.AsyncClient, new_id) -> None:
    bad = await anonymous.post(f"{ADMIN}/session", json={"api_key": "wrong", "operator": "eve"})
    assert bad.status_code == 401 and bad.json()["detail"].startswith("api_key:")
    missing = await anonymous.post(f"{ADMIN}/session", json={"operator": "eve"})
    assert missing.status_code == 422 and "api_key" in missing.json()["detail"]
    login = await anonymous.post(f"{ADMIN}/session", json={"api_key": API_KEY, "operator": "olga"})
    assert login.status_code == 200, login.text
    cookie = login.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/api/v1/admin" in cookie
    csrf = login.json()["csrf_token"]
    me = await anonymous.get(f"{ADMIN}/session")
    assert me.status_code == 200 and me.json() == {"operator": "olga", "csrf_token": csrf}

    telegram_id = new_id()
    await person(api, telegram_id)
    forged = await anonymous.post(f"{ADMIN}/users/{telegram_id}/block", json={})
    assert forged.status_code == 403 and "X-CSRF-Token" in forged.json()["detail"]
    done = await anonymous.post(f"{ADMIN}/users/{telegram_id}/block", json={"reason": "spam"}, headers={"X-CSRF-Token": csrf})
    assert done.status_code == 200 and done.json()["changed"] is True
    log = (await api.get(f"{ADMIN}/users/{telegram_id}")).json()["actions"]
    assert [(a["actor"], a["action"]) for a in log] == [("olga", "user:block")]

    out = await anonymous.delete(f"{ADMIN}/session", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 204
    assert (await anonymous.get(f"{ADMIN}/session")).status_code == 401


async def test_find_a_user_block_unblock_and_reset_training(api: httpx.AsyncClient, new_id) -> None:
    channel, ids = await seed_channel(api, new_id, texts=["one", "two", "three", "four"])
    telegram_id = await trained(api, new_id, channel, ids[:2])
    found = (await api.get(f"{ADMIN}/users", params={"search": str(telegram_id)})).json()["users"]
    assert [u["telegram_id"] for u in found] == [telegram_id] and found[0]["ratings"] == 2
    detail = (await api.get(f"{ADMIN}/users/{telegram_id}")).json()
    assert [h["action"] for h in detail["status_history"]][-1] == "status:complete_training"
    assert len(detail["ratings"]) == 2 and [c["username"] for c in detail["channels"]] == [channel["username"]]

    assert (await api.post(f"{ADMIN}/users/{telegram_id}/block", json={"reason": "spam in ratings"})).status_code == 200
    kept = (await api.get(f"{ADMIN}/users/{telegram_id}")).json()["blocked"]
    assert kept["reason"] == "spam in ratings" and kept["blocked_by"] == "api-key"
    blocked = await api.post("/api/v1/posts/best", json={"user_telegram_id": telegram_id, "limit": 3})
    assert blocked.status_code == 403 and blocked.json()["detail"].startswith("user:")
    assert (await api.post(f"{ADMIN}/users/{telegram_id}/unblock")).status_code == 200
    assert (await api.post("/api/v1/posts/best", json={"user_telegram_id": telegram_id, "limit": 3})).status_code == 200

    reset = await api.post(f"{ADMIN}/users/{telegram_id}/reset-training")
    assert reset.status_code == 200, reset.text
    assert reset.json()["ratings_dropped"] == 2 and reset.json()["user"]["status"] == "training"
    assert (await api.get(f"/api/v1/posts/interactions/{telegram_id}")).json()["interactions"] == []
    actions = [a["action"] for a in (await api.get(f"{ADMIN}/users/{telegram_id}")).json()["actions"]]
    assert actions == ["user:reset_training", "user:unblock", "user:block"]
    assert (await api.get(f"{ADMIN}/users/{new_id()}")).status_code == 404  # nobody has this id


async def test_delete_erases_the_user_from_every_table(api: httpx.AsyncClient, store, new_id) -> None:
    channel, ids = await seed_channel(api, new_id, texts=["a", "b", "c", "d"])
    telegram_id = await trained(api, new_id, channel, ids[:2])
    await feed(api, telegram_id, 2)
    await api.post(f"{ADMIN}/users/{telegram_id}/block", json={})
    user_id = (await api.get(f"/api/v1/users/{telegram_id}")).json()["id"]
    assert (await api.delete(f"{ADMIN}/users/{telegram_id}")).status_code == 204
    assert (await api.get(f"/api/v1/users/{telegram_id}")).status_code == 404
    for table in user_tables():
        left = await store.database.fetch_val(sa.select(sa.func.count()).select_from(table).where(table.c.user_id == user_id))
        assert left == 0, table.name
    logged = await store.database.fetch_one(
        sa.select(admin_actions).where(admin_actions.c.target == f"user:{telegram_id}", admin_actions.c.action == "user:delete"))
    assert logged is not None and logged._mapping["actor"] == "api-key"


async def test_ratings_of_the_mini_apps_feed_cards_are_feed_ratings(
    api: httpx.AsyncClient, settings: Settings, new_id
) -> None:
    """A card dealt in the Mini App's feed deck and rated there counts as the chat's feed
    posts do; a training card rated in the Mini App does not."""
    channel, ids = await seed_channel(api, new_id, texts=["m1", "m2", "m3", "m4", "m5"])
    telegram_id = await trained(api, new_id, channel, ids[:2])
    headers = tma(settings, tg_user(telegram_id))
    before = (await api.get(f"{ADMIN}/analytics/overview")).json()["like_rate"]
    deck = await api.get("/api/v1/miniapp/posts", params={"mode": "feed", "limit": 2}, headers=headers)
    assert deck.status_code == 200, deck.text
    dealt = [card["id"] for card in deck.json()["posts"]]
    assert len(dealt) == 2 and not set(dealt) & set(ids[:2])
    for post_id, kind in zip(dealt, ("like", "dislike"), strict=True):
        rated = await api.post("/api/v1/miniapp/interactions", json={"post_id": post_id, "interaction_type": kind},
                               headers=headers)
        assert rated.status_code == 200, rated.text
    undealt = next(post_id for post_id in ids[2:] if post_id not in dealt)
    await rate(api, telegram_id, undealt, "like")  # never dealt as a feed card: not a feed rating
    after = (await api.get(f"{ADMIN}/analytics/overview")).json()["like_rate"]
    assert after["feed_ratings"] - before["feed_ratings"] == 2
    assert after["feed_likes"] - before["feed_likes"] == 1


async def test_analytics_count_feed_ratings_and_the_funnel(api: httpx.AsyncClient, new_id) -> None:
    before = (await api.get(f"{ADMIN}/analytics/overview")).json()
    channel, ids = await seed_channel(api, new_id, texts=["p1", "p2", "p3", "p4", "p5", "p6"])
    telegram_id = await trained(api, new_id, channel, ids[:2])
    sent = await feed(api, telegram_id, 3)
    await rate(api, telegram_id, sent[0], "like")
    await rate(api, telegram_id, sent[1], "dislike")
    after = (await api.get(f"{ADMIN}/analytics/overview")).json()
    assert after["like_rate"]["feed_ratings"] - before["like_rate"]["feed_ratings"] == 2
    assert after["like_rate"]["feed_likes"] - before["like_rate"]["feed_likes"] == 1
    stages = {s["stage"]: s for s in after["funnel"]["stages"]}
    previous = {s["stage"]: s for s in before["funnel"]["stages"]}
    assert stages["trained"]["reached"] - previous["trained"]["reached"] == 1
    assert after["training"]["completed"] - before["training"]["completed"] == 1
    today = after["daily"][-1]
    assert today["active_users"] >= 1 and after["active_7_days"] >= 1
    assert today["ratings"] >= 4 and today["ci_low"] <= (today["like_rate"] or 0) <= today["ci_high"]
    overall = (await api.get(f"{ADMIN}/analytics/ratings", params={"days": 7})).json()["overall"]
    assert overall["feed_ratings"] >= 2
    listed = (await api.get(f"{ADMIN}/analytics/channels", params={"search": channel["username"]})).json()["channels"]
    assert [(c["followers"], c["posts"], c["ratings"], c["likes"]) for c in listed] == [(1, 6, 4, 3)]
    weekly = (await api.get(f"{ADMIN}/analytics/active", params={"period": "week", "days": 14})).json()
    assert weekly["period"] == "week" and weekly["points"]
    bad = await api.get(f"{ADMIN}/analytics/active", params={"period": "year"})
    assert bad.status_code == 422 and bad.json()["detail"].startswith("period:")


async def test_the_reasons_given_and_the_posts_rated_after_asking_are_counted(api: httpx.AsyncClient, new_id) -> None:
    """Through the API end to end: a person asks why about one feed post and likes it, and
    dislikes another without asking; the console's figures move by exactly that."""
    channel, ids = await seed_channel(api, new_id, texts=DISTINCT[:6])
    telegram_id = await trained(api, new_id, channel, ids[:2])
    before = (await api.get(f"{ADMIN}/analytics/overview")).json()["reasons"]
    asked, other = await feed(api, telegram_id, 2)
    why = await api.post("/api/v1/posts/explain", json={"user_telegram_id": telegram_id, "post_id": asked})
    assert why.status_code == 200, why.text
    lead = why.json()["reasons"][0]["kind"] if why.json()["reasons"] else "none"
    await rate(api, telegram_id, asked, "like")
    await rate(api, telegram_id, other, "dislike")
    after = (await api.get(f"{ADMIN}/analytics/reasons", params={"days": 30})).json()
    assert after["days"] == 30 and after["explanations"] - before["explanations"] == 1
    assert after["surfaces"]["api"] - before["surfaces"]["api"] == 1

    def led(figures: dict, key: str, field: str) -> int:
        return next((row[field] for row in figures[key] if row["kind"] == lead), 0)

    assert led(after, "leads", "count") - led(before, "leads", "count") == 1
    assert after["explained"]["feed_ratings"] - before["explained"]["feed_ratings"] == 1
    assert after["explained"]["feed_likes"] - before["explained"]["feed_likes"] == 1
    assert led(after, "by_lead", "feed_likes") - led(before, "by_lead", "feed_likes") == 1
    assert after["rest"]["feed_ratings"] - before["rest"]["feed_ratings"] == 1
    assert after["rest"]["feed_likes"] == before["rest"]["feed_likes"]
    assert sum(row["share"] for row in after["leads"]) == pytest.approx(1.0, abs=1e-3)
    bad = await api.get(f"{ADMIN}/analytics/reasons", params={"days": 0})
    assert bad.status_code == 422 and bad.json()["detail"].startswith("days: ")


async def test_default_channels_are_marked_and_logged(api: httpx.AsyncClient, new_id) -> None:
    channel, _ = await seed_channel(api, new_id, texts=["x"])
    marked = await api.post(f"{ADMIN}/channels/@{channel['username']}/default", json={"is_default": True})
    assert marked.status_code == 200 and marked.json()["is_default"] is True
    listed = (await api.get(f"{ADMIN}/analytics/channels", params={"search": channel["username"]})).json()["channels"]
    assert listed[0]["is_default"] is True
    assert (await api.post(f"{ADMIN}/channels/@{channel['username']}/default", json={"is_default": False})).json()["is_default"] is False
    assert (await api.post(f"{ADMIN}/channels/@nosuchchannel404/default", json={"is_default": True})).status_code == 404
    actions = (await api.get(f"{ADMIN}/actions", params={"limit": 2})).json()["actions"]
    assert [a["action"] for a in actions] == ["channel:default", "channel:default"]


async def test_the_channel_list_says_why_a_channel_is_default(api: httpx.AsyncClient, settings: Settings, new_id) -> None:
    """A DEFAULT_CHANNELS channel is default by the setting (the console offers no button
    for it); one the console marks is default by the mark; any other is not default."""
    configured = settings.effective_default_channels[0].lstrip("@")
    listed = (await api.get(f"{ADMIN}/analytics/channels", params={"search": configured})).json()["channels"]
    if not [c for c in listed if c["username"] == configured]:
        from ppb.scraper.demo import DEMO_CHANNELS  # a demo channel keeps its own id (the demo loads it later)

        telegram_id = {c.username: c.telegram_id for c in DEMO_CHANNELS}.get(configured, -(10**12 + new_id()))
        assert (await api.post("/api/v1/channels/", json={"telegram_id": telegram_id, "username": configured,
                                                          "title": "Configured"})).status_code == 201
        listed = (await api.get(f"{ADMIN}/analytics/channels", params={"search": configured})).json()["channels"]
    [row] = [c for c in listed if c["username"] == configured]
    assert row["is_default"] is True and row["default_by"] == "setting"
    channel, _ = await seed_channel(api, new_id, texts=["y"])

    async def source() -> str | None:
        rows = (await api.get(f"{ADMIN}/analytics/channels", params={"search": channel["username"]})).json()["channels"]
        return rows[0]["default_by"]

    assert await source() is None
    assert (await api.post(f"{ADMIN}/channels/@{channel['username']}/default", json={"is_default": True})).status_code == 200
    assert await source() == "mark"
    assert (await api.post(f"{ADMIN}/channels/@{channel['username']}/default", json={"is_default": False})).status_code == 200
    assert await source() is None


async def test_the_ranking_settings_a_variant_may_change_are_listed_with_their_bounds(api: httpx.AsyncClient) -> None:
    from ppb.ranking import DEFAULT_PARAMS

    known = {s["name"]: s for s in (await api.get(f"{ADMIN}/experiments/settings")).json()["settings"]}
    assert set(known) == set(DEFAULT_PARAMS.__dataclass_fields__)
    assert known["exploration"] | {"description": ""} == {"name": "exploration", "description": "", "default": 0.1,
                                                          "minimum": 0, "exclusive_minimum": False, "maximum": 0.5}
    assert all(s["description"] for s in known.values())
    body = {"name": "too-much", "variants": [{"name": "a"}, {"name": "b", "settings": {"exploration": 0.9}}]}
    refused = await api.post(f"{ADMIN}/experiments", json=body)
    assert refused.status_code == 422 and refused.json()["detail"].startswith("variants[1].settings.exploration:")
    zero = {"name": "unfittable", "variants": [{"name": "a"}, {"name": "b", "settings": {"regularization": 0}}]}
    assert (await api.post(f"{ADMIN}/experiments", json=zero)).status_code == 422  # C = 0 cannot be fitted


async def test_a_channel_marked_default_is_in_every_new_persons_training(
    api: httpx.AsyncClient, settings: Settings, new_id
) -> None:
    channel, ids = await seed_channel(api, new_id, texts=["marked one", "marked two"])
    newcomer, later = new_id(), new_id()
    for telegram_id in (newcomer, later):
        assert (await api.post("/api/v1/users/", json={"telegram_id": telegram_id, "first_name": "N"})).status_code == 201
    marked = f"{ADMIN}/channels/@{channel['username']}/default"
    assert (await api.post(marked, json={"is_default": True})).status_code == 200
    try:
        started = await api.post(f"/api/v1/users/{newcomer}/training", json={})
        assert started.status_code == 200, started.text
        state = (await api.get(f"/api/v1/users/{newcomer}/training", params={"limit": 100})).json()
        assert set(ids) <= {card["id"] for card in state["posts"]}
    finally:
        assert (await api.post(marked, json={"is_default": False})).status_code == 200
    started = await api.post(f"/api/v1/users/{later}/training", json={})
    state = (await api.get(f"/api/v1/users/{later}/training", params={"limit": 100})).json()
    assert not set(ids) & {card["id"] for card in state["posts"]}  # unmarked: no longer a default
    configured = settings.effective_default_channels[0]
    refused = await api.post(f"{ADMIN}/channels/{configured}/default", json={"is_default": False})
    assert refused.status_code == 409 and refused.json()["detail"].startswith("is_default:")


async def test_a_default_channel_a_person_adds_takes_no_bonus_slot(api: httpx.AsyncClient, new_id) -> None:
    """Marked default by the console or not yet: asked for as a bonus, a default channel is
    linked without using one of the person's bonus slots (the rule lives in the core)."""
    channel, _ = await seed_channel(api, new_id, texts=["one marked post"])
    other, _ = await seed_channel(api, new_id, texts=["one plain post"])
    person = new_id()
    assert (await api.post("/api/v1/users/", json={"telegram_id": person})).status_code == 201
    marked = f"{ADMIN}/channels/@{channel['username']}/default"
    assert (await api.post(marked, json={"is_default": True})).status_code == 200
    try:
        added = await api.post(f"/api/v1/users/{person}/channels",
                               json={"channel": f"@{channel['username']}", "is_bonus": True})
        assert added.status_code in {200, 201}, added.text
        assert added.json()["is_bonus"] is False
        assert (await api.get(f"/api/v1/users/{person}")).json()["bonus_channels_count"] == 0
    finally:
        assert (await api.post(marked, json={"is_default": False})).status_code == 200
    added = await api.post(f"/api/v1/users/{person}/channels", json={"channel": f"@{other['username']}", "is_bonus": True})
    assert added.status_code in {200, 201} and added.json()["is_bonus"] is True
    assert (await api.get(f"/api/v1/users/{person}")).json()["bonus_channels_count"] == 1


async def test_an_experiment_assigns_for_good_and_compares_like_rates(api: httpx.AsyncClient, store, new_id) -> None:
    await stop_running(api)
    body = {"name": f"exploration-{new_id()}", "start": True, "variants": [
        {"name": "control", "weight": 1, "settings": {}},
        {"name": "explore", "weight": 1, "settings": {"exploration": 0.2}},
    ]}
    created = await api.post(f"{ADMIN}/experiments", json=body)
    assert created.status_code == 201, created.text
    experiment = created.json()
    assert experiment["state"] == "running"
    second = await api.post(f"{ADMIN}/experiments", json={**body, "name": body["name"] + "-b"})
    assert second.status_code == 409 and "running" in second.json()["detail"]
    listed = (await api.get(f"{ADMIN}/experiments")).json()["experiments"]
    assert body["name"] + "-b" not in [e["name"] for e in listed], "a refused start leaves no draft behind"

    channel, ids = await seed_channel(api, new_id, texts=DISTINCT)
    people = [await trained(api, new_id, channel, ids[:2]) for _ in range(6)]
    for telegram_id in people:
        sent = await feed(api, telegram_id, 3)
        assert len(sent) == 3
        for post_id in sent:
            await rate(api, telegram_id, post_id, "like")
    shown = (await api.get(f"{ADMIN}/experiments/{experiment['id']}")).json()
    results = {row["variant"]: row for row in shown["results"]}
    assert sum(row["users"] for row in results.values()) == 6
    assert sum(row["ratings"] for row in results.values()) == 18  # feed ratings only, not training
    assert all(row["like_rate"] in (None, 1.0) for row in results.values())
    assert "p_value" in results["explore"] and "p_value" not in results["control"]

    assignments = [(await api.get(f"{ADMIN}/users/{t}")).json()["assignments"] for t in people]
    assert all(len(a) == 1 for a in assignments)
    again = [(await api.get(f"{ADMIN}/users/{t}")).json()["assignments"] for t in people]
    assert again == assignments, "assignment is kept"
    stopped = await api.post(f"{ADMIN}/experiments/{experiment['id']}/stop")
    assert stopped.status_code == 200 and stopped.json()["state"] == "stopped"
    assert (await api.post(f"{ADMIN}/experiments/{experiment['id']}/start")).status_code == 409


async def test_experiment_input_errors_name_the_field(api: httpx.AsyncClient) -> None:
    one = await api.post(f"{ADMIN}/experiments", json={"name": "x", "variants": [{"name": "a"}]})
    assert one.status_code == 422 and one.json()["detail"].startswith("variants")
    twice = await api.post(f"{ADMIN}/experiments", json={"name": "x", "variants": [{"name": "a"}, {"name": "a"}]})
    assert twice.status_code == 400 and twice.json()["detail"].startswith("variants[1].name")
    assert (await api.get(f"{ADMIN}/experiments/999999999")).status_code == 404
    assert (await api.get(f"{ADMIN}/experiments/abc")).status_code == 422


async def test_the_ranker_gets_the_users_variant_and_nothing_for_the_blocked(api: httpx.AsyncClient, services: Services, store, new_id) -> None:
    from ppb.core.variants import FeedRanker
    from ppb.core.scoring import Scoring

    class Recording(Scoring):
        """The real ranking, remembering the variant each call was given."""

        seen: list = []

        async def best(self, user_id, limit, variant=None):
            self.seen.append(variant)
            return await super().best(user_id, limit, variant=variant)

    await stop_running(api)
    channel, ids = await seed_channel(api, new_id, texts=DISTINCT[:5])
    telegram_id = await trained(api, new_id, channel, ids[:2])
    user_id = (await api.get(f"/api/v1/users/{telegram_id}")).json()["id"]
    ranker = Recording(store)
    feed_ranker = FeedRanker(ranker, store)
    await feed_ranker.best(user_id, 3)
    assert ranker.seen == [None], "no experiment: the default model"
    body = {"name": f"semi-{new_id()}", "start": True, "variants": [
        {"name": "a", "weight": 1, "settings": {"spread_weight": 0}},
        {"name": "b", "weight": 1, "settings": {"spread_weight": 0}}]}
    experiment = (await api.post(f"{ADMIN}/experiments", json=body)).json()
    try:
        assert len(await feed_ranker.best(user_id, 3)) == 3
        assert ranker.seen[-1] == {"spread_weight": 0}
        await api.post(f"{ADMIN}/users/{telegram_id}/block", json={})
        assert await FeedRanker(ranker, store, quiet_when_blocked=True).best(user_id, 3) == []
        assert len(ranker.seen) == 2, "a blocked user is not ranked at all"
    finally:
        await api.post(f"{ADMIN}/experiments/{experiment['id']}/stop")


async def test_a_blocked_user_is_refused_by_the_mini_app(api: httpx.AsyncClient, settings: Settings, new_id) -> None:
    from tests.test_miniapp_api import MINIAPP, send_without_api_key, tg_user, tma

    telegram_id = new_id()
    headers = tma(settings, tg_user(telegram_id, "en"))
    assert (await send_without_api_key(api, "GET", f"{MINIAPP}/me", headers=headers)).status_code == 200
    await api.post(f"{ADMIN}/users/{telegram_id}/block", json={"reason": "abuse"})
    refused = await send_without_api_key(api, "GET", f"{MINIAPP}/posts", headers=headers)
    assert refused.status_code == 403 and refused.json() == {"detail": "user: this user is blocked by an operator", "status_code": 403}
    await api.post(f"{ADMIN}/users/{telegram_id}/unblock")
    assert (await send_without_api_key(api, "GET", f"{MINIAPP}/me", headers=headers)).status_code == 200


async def test_a_variant_naming_an_unknown_ranking_setting_is_refused(api: httpx.AsyncClient, new_id) -> None:
    body = {"name": f"typo-{new_id()}", "variants": [
        {"name": "a", "settings": {}}, {"name": "b", "settings": {"semi_supervised": 0}}]}
    response = await api.post(f"{ADMIN}/experiments", json=body)
    assert response.status_code == 422, response.text
    assert "semi_supervised" in response.json()["detail"] and "spread_weight" in response.json()["detail"]
