"""A churned user who rates a post or opens the Mini App is back to active, through the
state machine."""

from __future__ import annotations

import httpx

from ppb.config import Settings
from ppb.http.miniapp_auth import miniapp_bot_token, sign_init_data
from ppb.store.queries import Store


async def test_a_rating_brings_a_churned_user_back(api: httpx.AsyncClient, store: Store, new_id) -> None:
    user = new_id()
    await api.post("/api/v1/users/", json={"telegram_id": user})
    for event in ["start", "start_training", "complete_training", "view_feed", "churn"]:
        moved = await api.post(f"/api/v1/users/{user}/events", json={"event": event})
        assert moved.status_code == 200, moved.text
    assert moved.json()["status"] == "churned"

    channel = -1000000000000 - new_id()
    await api.post("/api/v1/channels/", json={"telegram_id": channel, "username": f"back{new_id()}", "title": "Back"})
    bulk = await api.post(
        "/api/v1/posts/bulk",
        json={"channel_telegram_id": channel, "posts": [
            {"telegram_message_id": 1, "text": "hello again", "posted_at": "2026-01-01T00:00:00Z"}]},
    )
    rated = await api.post(
        "/api/v1/posts/interactions",
        json={"user_telegram_id": user, "post_id": bulk.json()["post_ids"][0], "interaction_type": "like"},
    )
    assert rated.status_code == 200, rated.text
    assert (await api.get(f"/api/v1/users/{user}")).json()["status"] == "active"
    log = await store.user_log((await store.get_user(user))["id"])
    assert [row["action"] for row in log][-1] == "status:activity"


async def test_opening_the_mini_app_brings_a_churned_user_back(
    api: httpx.AsyncClient, settings: Settings, new_id
) -> None:
    user = new_id()
    await api.post("/api/v1/users/", json={"telegram_id": user})
    for event in ["start", "start_training", "complete_training", "view_feed", "churn"]:
        await api.post(f"/api/v1/users/{user}/events", json={"event": event})
    init_data = sign_init_data(miniapp_bot_token(settings), {"id": user, "first_name": "Back"})
    me = await api.get("/api/v1/miniapp/me", headers={"Authorization": f"tma {init_data}"})
    assert me.status_code == 200, me.text
    assert me.json()["status"] == "active"
