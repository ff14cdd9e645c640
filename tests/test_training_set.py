"""A training's start in the store (`Store.start_training_set`): the channels linked for
training and the set written in one transaction, on SQLite and PostgreSQL; a link that was
there only gains the training flag; with nothing to rate the last set stays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ppb.store.posts import NewPost
from ppb.store.queries import Store


async def test_links_and_set_in_one_go_then_appended_and_kept(store: Store, new_id) -> None:
    user, _ = await store.upsert_user(new_id(), None, None, None)
    first = await store.upsert_channel(-1000000000000 - new_id(), f"set{new_id()}", "First")
    second = await store.upsert_channel(-1000000000000 - new_id(), f"set{new_id()}", "Second")
    now = datetime.now(UTC)
    _, posts = await store.add_posts(first["id"], [NewPost(n + 1, f"post {n}", "text", now - timedelta(minutes=n))
                                                   for n in range(3)])
    await store.link_channels(user["id"], [second["id"]], for_training=False, bonus=True)

    await store.start_training_set(user["id"], [first["id"], second["id"], first["id"]], posts[:2])
    linked = {row["id"]: row for row in await store.list_user_channels(user["id"])}
    assert set(linked) == {first["id"], second["id"]}
    assert all(row["is_for_training"] for row in linked.values())
    assert linked[second["id"]]["is_bonus"]  # kept, and gained the training flag
    assert [row["id"] for row in await store.training_set(user["id"])] == posts[:2]

    await store.start_training_set(user["id"], [first["id"]], posts[2:], append=True)
    assert [row["id"] for row in await store.training_set(user["id"])] == posts

    await store.start_training_set(user["id"], [first["id"]], [])  # nothing left to rate
    assert [row["id"] for row in await store.training_set(user["id"])] == posts


async def test_a_failed_start_writes_neither_links_nor_set(store: Store, new_id) -> None:
    user, _ = await store.upsert_user(new_id(), None, None, None)
    channel = await store.upsert_channel(-1000000000000 - new_id(), f"set{new_id()}", "Only")
    now = datetime.now(UTC)
    _, posts = await store.add_posts(channel["id"], [NewPost(1, "post", "text", now)])
    await store.start_training_set(user["id"], [channel["id"]], posts)
    other = await store.upsert_channel(-1000000000000 - new_id(), f"set{new_id()}", "Other")
    with pytest.raises(Exception) as refused:  # each engine has its own error class
        await store.start_training_set(user["id"], [other["id"]], [max(posts) + 10_000_000])
    assert "foreign key" in str(refused.value).lower()  # a post that does not exist
    assert [row["id"] for row in await store.list_user_channels(user["id"])] == [channel["id"]]
    assert [row["id"] for row in await store.training_set(user["id"])] == posts
