"""The deliverer finds posts however they were stored, pages through a large arrival, and
hands each post to `on_arrival` once (posted long ago: not at all)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ppb.actors.delivery import Deliverer
from ppb.core.delivery import ArrivalReport, Caps
from ppb.store.queries import NewPost, Store


class NoScores:
    async def score_arrivals(self, user_ids: list[int], post_ids: list[int]) -> dict:
        return {}


async def test_every_fresh_post_is_handed_over_once_across_pages(store: Store, new_id) -> None:
    seen: list[int] = []

    async def record(store_: Store, scorer, post_ids, caps, now):  # type: ignore[no-untyped-def]
        seen.extend(post_ids)
        return ArrivalReport(posts=len(post_ids))

    deliverer = Deliverer(store, NoScores(), Caps(), batch=7, arrive=record)
    await deliverer.arrivals()  # whatever other tests stored lately
    seen.clear()
    channel = await store.upsert_channel(-1000000000000 - new_id(), f"arrive{new_id()}", "Arrivals")
    now = datetime.now(UTC)
    _, fresh = await store.add_posts(channel["id"], [NewPost(n, f"post {n}", "text", now) for n in range(1, 21)])
    _, old = await store.add_posts(channel["id"], [NewPost(100, "an archive post", "text", now - timedelta(days=30))])
    await deliverer.arrivals()
    assert sorted(p for p in seen if p in set(fresh) | set(old)) == sorted(fresh), "fresh ones, across pages"
    seen.clear()
    await deliverer.arrivals()
    assert not set(seen) & set(fresh), "never twice"


async def test_the_pushes_it_queues_are_counted(store: Store, new_id) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    from ppb import metrics

    def queued_pushes() -> float:
        return sum(s.value for family in text_string_to_metric_families(metrics.local_text().decode())
                   for s in family.samples if s.name == "ppb_outbox_messages_total"
                   and s.labels == {"kind": "push", "outcome": "queued"})

    async def push_each(store_: Store, scorer, post_ids, caps, now):  # type: ignore[no-untyped-def]
        return ArrivalReport(posts=len(post_ids), pushed=len(post_ids))

    deliverer = Deliverer(store, NoScores(), Caps(), arrive=push_each)
    await deliverer.arrivals()  # whatever other tests stored lately
    before = queued_pushes()
    channel = await store.upsert_channel(-1000000000000 - new_id(), f"count{new_id()}", "Counted")
    await store.add_posts(channel["id"], [NewPost(n, f"post {n}", "text", datetime.now(UTC)) for n in range(1, 4)])
    await deliverer.arrivals()
    assert queued_pushes() - before == 3
