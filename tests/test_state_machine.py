"""The user state machine: pure rules, and driven through the API with its log."""

from __future__ import annotations

import httpx
import pytest

from ppb.domain.errors import ForbiddenTransition
from ppb.domain.status import TRANSITIONS, UserEvent, UserStatus, next_status
from ppb.store.queries import Store

S, E = UserStatus, UserEvent


@pytest.mark.parametrize(("status", "event"), list(TRANSITIONS), ids=lambda v: v.value)
def test_allowed_transitions(status: UserStatus, event: UserEvent) -> None:
    assert next_status(status, event) == TRANSITIONS[(status, event)]


FORBIDDEN = [
    (S.NEW, E.START_TRAINING),
    (S.NEW, E.COMPLETE_TRAINING),
    (S.NEW, E.VIEW_FEED),
    (S.ONBOARDING, E.COMPLETE_TRAINING),
    (S.ONBOARDING, E.VIEW_FEED),
    (S.TRAINING, E.VIEW_FEED),
    (S.TRAINING, E.CHURN),
    (S.TRAINED, E.CHURN),
    (S.TRAINED, E.START),
    (S.CHURNED, E.START_TRAINING),
]


@pytest.mark.parametrize(("status", "event"), FORBIDDEN, ids=lambda v: v.value)
def test_forbidden_transitions(status: UserStatus, event: UserEvent) -> None:
    with pytest.raises(ForbiddenTransition) as caught:
        next_status(status, event)
    assert event.value in caught.value.detail and status.value in caught.value.detail


def test_repeated_event_is_harmless() -> None:
    assert next_status(S.ONBOARDING, E.START) == S.ONBOARDING
    assert next_status(S.ACTIVE, E.VIEW_FEED) == S.ACTIVE
    assert next_status(S.NEW, E.ACTIVITY) == S.NEW


async def test_whole_journey_through_the_api(api: httpx.AsyncClient, store: Store, new_id) -> None:
    user = new_id()
    await api.post("/api/v1/users/", json={"telegram_id": user})

    async def fire(event: str) -> httpx.Response:
        return await api.post(f"/api/v1/users/{user}/events", json={"event": event})

    forbidden = await fire("view_feed")
    assert forbidden.status_code == 409
    assert "view_feed" in forbidden.json()["detail"]
    journey = [
        ("start", "onboarding", False),
        ("start_training", "training", False),
        ("complete_training", "trained", True),
        ("view_feed", "active", True),
        ("churn", "churned", True),
        ("activity", "active", True),
        ("start_training", "training", True),
    ]
    for event, status, trained in journey:
        response = await fire(event)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == status
        assert response.json()["is_trained"] is trained
    row = await store.get_user(user)
    log = await store.user_log(row["id"])
    assert [(entry["details"]["from"], entry["details"]["to"]) for entry in log] == [
        ("new", "onboarding"),
        ("onboarding", "training"),
        ("training", "trained"),
        ("trained", "active"),
        ("active", "churned"),
        ("churned", "active"),
        ("active", "training"),
    ]


async def test_ml_train_completes_training(api: httpx.AsyncClient, new_id) -> None:
    user = new_id()
    channel = -1000000000000 - new_id()
    username = f"mlchan{new_id()}"
    await api.post("/api/v1/users/", json={"telegram_id": user})
    await api.post("/api/v1/channels/", json={"telegram_id": channel, "username": username, "title": "ML"})
    bulk = await api.post(
        "/api/v1/posts/bulk",
        json={"channel_telegram_id": channel, "posts": [{"telegram_message_id": 1, "text": "hello", "posted_at": "2024-03-01T00:00:00Z"}]},
    )
    for event in ("start", "start_training"):
        await api.post(f"/api/v1/users/{user}/events", json={"event": event})

    untrained = await api.post("/api/v1/ml/train", json={"user_telegram_id": user})
    assert untrained.json()["success"] is False
    assert (await api.get(f"/api/v1/users/{user}")).json()["status"] == "training"

    await api.post(
        "/api/v1/posts/interactions",
        json={"user_telegram_id": user, "post_id": bulk.json()["post_ids"][0], "interaction_type": "like"},
    )
    trained = await api.post("/api/v1/ml/train", json={"user_telegram_id": user})
    assert trained.json()["success"] is True
    after = (await api.get(f"/api/v1/users/{user}")).json()
    assert after["status"] == "trained" and after["is_trained"] is True
