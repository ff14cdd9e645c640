"""Seen, said once (`ppb/store/seen.py`): a post is in a person's chat when sent there as a
feed post, push or digest entry, or as a nudge; seen is that or rated. Every question the
store answers about it agrees, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ppb.domain.interactions import InteractionType
from ppb.store.posts import NewPost
from ppb.store.queries import Store


async def test_every_question_about_seen_posts_agrees(store: Store, new_id) -> None:
    telegram_id, other_id = new_id(), new_id()
    user, _ = await store.upsert_user(telegram_id, None, None, None)
    other, _ = await store.upsert_user(other_id, None, None, None)
    channel = await store.upsert_channel(-1000000000000 - new_id(), f"seen{new_id()}", "Seen")
    now = datetime.now(UTC)
    _, (fed, nudged, rated, fresh) = await store.add_posts(
        channel["id"], [NewPost(n + 1, f"post {n}", "text", now - timedelta(minutes=n)) for n in range(4)])
    await store.add_chat_posts(user["id"], [fed])
    await store.claim_nudges([(user["id"], nudged)], now)
    await store.rate(telegram_id, rated, InteractionType.LIKE)
    await store.add_chat_posts(other["id"], [fresh])  # someone else's chat

    assert await store.seen_post_ids(user["id"]) == {fed, nudged}
    assert (await store.seen_post_ids_many([user["id"], other["id"]])) == {user["id"]: {fed, nudged},
                                                                           other["id"]: {fresh}}
    assert [await store.in_chat(user["id"], post) for post in (fed, nudged, rated, fresh)] == [True, True, False, False]
    pairs = await store.seen_pairs([user["id"]], [fed, nudged, rated, fresh], scored=False)
    assert pairs == {(user["id"], fed), (user["id"], nudged), (user["id"], rated)}
