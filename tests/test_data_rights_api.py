"""The person's data over REST, on SQLite and PostgreSQL: the export holds their profile,
rules, channels, ratings and the explanations they asked for; the erasure removes them from every table that has their rows."""

from __future__ import annotations

import httpx
import sqlalchemy as sa

from ppb.store.admin import user_tables
from ppb.store.queries import Store
from tests.test_miniapp_api import seed_channel
from tests.test_training_api import person, rate, start


async def test_export_then_delete_leaves_no_row_of_the_person(api: httpx.AsyncClient, store: Store, new_id) -> None:
    telegram_id = new_id()
    await person(api, telegram_id)
    channel, ids = await seed_channel(api, new_id, texts=["one", "two", "three"])
    await start(api, telegram_id, [channel], posts_per_channel=3)
    await rate(api, telegram_id, ids[0], "like")
    await api.patch(f"/api/v1/users/{telegram_id}/rules", json={
        "mute_words": ["кот"], "hide_ads": True, "must_words": ["пёс"], "channel_dials": {channel["username"]: "less"}})
    asked = await api.post("/api/v1/posts/explain", json={"user_telegram_id": telegram_id, "post_id": ids[1]})
    assert asked.status_code == 200, asked.text
    exported = await api.get(f"/api/v1/users/{telegram_id}/export")
    assert exported.status_code == 200, exported.text
    document = exported.json()
    assert document["format"] == "ppb-export/1" and document["user"]["telegram_id"] == telegram_id
    assert document["settings"]["mute_words"] == ["кот"] and document["settings"]["hide_ads"] is True
    assert document["settings"]["must_words"] == ["пёс"]
    assert document["settings"]["channel_dials"] == [{"username": channel["username"], "title": channel["title"],
                                                      "telegram_id": channel["telegram_id"], "dial": "less"}]
    assert [c["username"] for c in document["channels"]] == [channel["username"]]
    assert [(r["post_id"], r["interaction_type"]) for r in document["ratings"]] == [(ids[0], "like")]
    lead = asked.json()["reasons"][0]["kind"] if asked.json()["reasons"] else "none"
    assert [(e["post_id"], e["lead"], e["surface"]) for e in document["explanations"]] == [(ids[1], lead, "api")]

    user_id = await store.user_id(telegram_id)
    tables = {table.name for table in user_tables()}
    assert {"user_rules", "deliveries", "outbox", "interactions", "training_items", "explanations"} <= tables
    deleted = await api.delete(f"/api/v1/users/{telegram_id}")
    assert deleted.status_code == 204
    for table in user_tables():
        count = await store.database.fetch_val(
            sa.select(sa.func.count()).select_from(table).where(table.c.user_id == user_id))
        assert count == 0, table.name
    assert (await api.get(f"/api/v1/users/{telegram_id}")).status_code == 404
    assert (await api.get(f"/api/v1/users/{telegram_id}/export")).status_code == 404
    assert (await api.delete(f"/api/v1/users/{telegram_id}")).status_code == 404
