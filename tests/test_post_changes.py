"""Posts changed on Telegram after they were stored, in the store on both engines: an edit
replaces the text and formatting of the same post (the newest edit wins), a deletion takes
the post out of feeds, training, digests and live delivery while ratings of it stay."""

from __future__ import annotations

from datetime import timedelta

from ppb.domain.interactions import InteractionType
from ppb.store.queries import NewPost, Store, utcnow


async def _channel_with_posts(store: Store, new_id, count: int = 3) -> tuple[int, list[int]]:
    bare = new_id()
    channel = await store.upsert_channel(-(10**12 + bare), f"changes{bare}", "Changes")
    now = utcnow()
    posts = [NewPost(n, f"story number {n} about the harbour", "text", now - timedelta(minutes=10 - n))
             for n in range(1, count + 1)]
    _, ids = await store.add_posts(channel["id"], posts)
    return int(channel["id"]), ids


async def test_an_edit_replaces_text_and_formatting_and_the_newest_wins(store: Store, new_id) -> None:
    channel_id, ids = await _channel_with_posts(store, new_id)
    before = {row["id"]: row for row in await store.latest_posts([channel_id], 5)}
    at = utcnow().replace(microsecond=0)
    edit = NewPost(2, "story number 2, corrected", "photo", before[ids[1]]["posted_at"], "<b>story</b> number 2, corrected")

    assert await store.edit_posts(channel_id, [(edit, at)]) == [ids[1]]
    stale = NewPost(2, "an older edit arriving late", "text", edit.posted_at)
    assert await store.edit_posts(channel_id, [(stale, at - timedelta(seconds=5))]) == []
    same_second = NewPost(2, "story number 2, corrected twice", "photo", edit.posted_at)
    assert await store.edit_posts(channel_id, [(same_second, at)]) == [ids[1]]
    assert await store.edit_posts(channel_id, [(NewPost(99, "never stored", "text", at), at)]) == []

    after = {row["id"]: row for row in await store.latest_posts([channel_id], 5)}
    assert (after[ids[1]]["text"], after[ids[1]]["media_type"]) == ("story number 2, corrected twice", "photo")
    assert after[ids[1]]["html"] is None
    assert after[ids[1]]["posted_at"] == before[ids[1]]["posted_at"]
    page = await store.arrived_since(utcnow() - timedelta(hours=1), utcnow() - timedelta(days=1), ids[1], 10)
    assert ids[1] not in page, "an edit is not a new arrival"


async def test_a_deleted_post_leaves_feeds_training_and_digests_but_its_rating_counts(store: Store, new_id) -> None:
    channel_id, ids = await _channel_with_posts(store, new_id, count=4)
    user, _ = await store.upsert_user(new_id(), None, "Ann", None)
    await store.add_user_channel(user["id"], channel_id, for_training=True, bonus=False)
    await store.set_training(user["id"], ids)
    await store.rate(user["telegram_id"], ids[0], InteractionType.LIKE)
    await store.add_deliveries([{"user_id": user["id"], "post_id": post_id, "score": 0.5, "route": "digest",
                                 "status": "waiting", "story": f"s{post_id}"} for post_id in ids[1:3]])
    window = utcnow() - timedelta(hours=1)
    assert set(await store.arrived_since(window, utcnow() - timedelta(days=1), 0, 10**6)) >= set(ids)

    assert await store.delete_posts(channel_id, [1, 2, 77]) == ids[:2]
    assert await store.delete_posts(channel_id, [1]) == [], "marked once"

    assert [row["id"] for row in await store.latest_posts([channel_id], 10)] == [ids[3], ids[2]]
    assert [row["id"] for row in await store.candidate_posts(user["id"], 10)] == [ids[3], ids[2]]
    assert {row["id"] for row in await store.feed_posts(ids)} == {ids[2], ids[3]}
    assert [row["id"] for row in await store.waiting_posts(user["id"])] == [ids[2]]
    arrived = await store.arrived_since(window, utcnow() - timedelta(days=1), 0, 10**6)
    assert ids[0] not in arrived and ids[1] not in arrived and ids[2] in arrived
    training = await store.training_set(user["id"])
    assert [row["id"] for row in training] == [ids[0], ids[2], ids[3]], "a rated deleted post stays counted"
    assert training[0]["rating"] == "like"
    assert await store.rating_count(user["id"]) == 1
    assert [row["post_id"] for row in await store.rating_keys(user["id"])] == [ids[0]]
