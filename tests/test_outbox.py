"""The outbox as plain Python over the real store (SQLite and PostgreSQL) with a recording
sender: each chat's messages in order and a second apart, the overall rate, a 429 pausing
the whole queue and the message sent after it, an undeliverable chat given up, and a
restart that settles claimed messages by the chat's registry (sent once, never twice)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from ppb.actors.outbox import Outbox, Pace, RetryLater, Undeliverable
from ppb.store.queries import Store
from tests.store_reads import outbox_of


class Recorder:
    """A `Sender` that records when each message reached which chat."""

    def __init__(self, flood_at: set[int] | None = None, blocked: set[int] | None = None) -> None:
        self.sent: list[tuple[float, int, int]] = []  # (time, chat, outbox id)
        self.registry: dict[tuple[int, int], int] = {}
        self.flood_at = set() if flood_at is None else set(flood_at)
        self.blocked = set() if blocked is None else blocked
        self.calls = 0

    async def send(self, message: dict[str, Any]) -> int:
        self.calls += 1
        began = time.monotonic()  # when the send started: what the pacing spaces
        if self.calls in self.flood_at:
            raise RetryLater(0.6)
        if message["chat_id"] in self.blocked:
            raise Undeliverable("Forbidden: bot was blocked by the user")
        await asyncio.sleep(0.001)
        self.sent.append((began, int(message["chat_id"]), int(message["id"])))
        self.registry[(int(message["chat_id"]), int(message["id"]))] = len(self.sent)
        return len(self.sent)

    async def find(self, chat_id: int, outbox_id: int) -> int | None:
        return self.registry.get((chat_id, outbox_id))


async def queue(store: Store, new_id, chats: int, each: int) -> tuple[list[int], dict[int, list[int]]]:
    """`each` messages for each of `chats` new people, interleaved; their chat ids and ids."""
    people = []
    for _ in range(chats):
        user, _created = await store.upsert_user(new_id(), None, "Ann", None, None)
        people.append(user)
    await store.enqueue([{"user_id": p["id"], "chat_id": p["telegram_id"], "kind": "push",
                          "payload": {"post": {"id": n}}} for n in range(each) for p in people])
    ids = {int(p["telegram_id"]): [int(m["id"]) for m in await outbox_of(store, p["id"])] for p in people}
    return [int(p["telegram_id"]) for p in people], ids


async def statuses(store: Store, ids: dict[int, list[int]]) -> list[str]:
    found = []
    for chat_ids in ids.values():
        user = await store.get_user(next(iter([c for c in ids if ids[c] == chat_ids])))
        found += [m["status"] for m in await outbox_of(store, user["id"])]
    return found


async def test_each_chat_in_order_a_second_apart_within_the_overall_rate(store: Store, new_id) -> None:
    chats, ids = await queue(store, new_id, chats=4, each=3)
    sender = Recorder()
    outbox = Outbox(store, sender, Pace(rate=5.0, per_chat_s=0.5, idle_s=0.05))
    await outbox.drain(30)
    mine = [(t, chat, i) for t, chat, i in sender.sent if chat in ids]
    assert len(mine) == 12 and len({i for _, _, i in mine}) == 12, "each once"
    for chat in chats:
        times = [t for t, c, _ in mine if c == chat]
        assert [i for _, c, i in mine if c == chat] == ids[chat], "a chat's messages in order"
        assert all(b - a >= 0.5 - 0.01 for a, b in zip(times, times[1:])), "a chat gets one per per_chat_s"
    starts = sorted(t for t, _, _ in sender.sent)  # every message it sent counts against the rate
    assert all(b - a >= (5 - 1) / 5.0 for a, b in zip(starts, starts[5:])), "at most 5 sends in any second"
    assert set(await statuses(store, ids)) == {"sent"}


async def test_a_429_pauses_the_queue_and_the_message_goes_after_it(store: Store, new_id) -> None:
    chats, ids = await queue(store, new_id, chats=2, each=2)
    sender = Recorder(flood_at={2})
    outbox = Outbox(store, sender, Pace(rate=100.0, per_chat_s=0.0, concurrency=1, idle_s=0.05))
    await outbox.drain(30)
    assert outbox.counters.flood_waits == 1
    mine = [(t, i) for t, chat, i in sender.sent if chat in ids]
    assert sorted(i for _, i in mine) == sorted(i for chat in ids.values() for i in chat), "none lost, none twice"
    gaps = [b - a for (a, _), (b, _) in zip(mine, mine[1:])]
    assert max(gaps) >= 0.6 - 0.01, "nothing was sent while the flood wait lasted"


async def test_an_undeliverable_chat_is_given_up_and_the_others_are_served(store: Store, new_id) -> None:
    chats, ids = await queue(store, new_id, chats=2, each=2)
    sender = Recorder(blocked={chats[0]})
    await Outbox(store, sender, Pace(rate=100.0, per_chat_s=0.0, idle_s=0.05)).drain(30)
    first = [m["status"] for m in await outbox_of(store, (await store.get_user(chats[0]))["id"])]
    second = [m["status"] for m in await outbox_of(store, (await store.get_user(chats[1]))["id"])]
    assert first == ["failed", "failed"] and second == ["sent", "sent"]


async def test_a_restart_settles_claimed_messages_by_the_registry(store: Store, new_id) -> None:
    chats, ids = await queue(store, new_id, chats=1, each=3)
    chat = chats[0]
    first, second, third = ids[chat]
    sender = Recorder()
    # The owner died after claiming two: the first had reached the chat, the second had not.
    assert await store.claim(first) and await store.claim(second)
    sender.registry[(chat, first)] = 777
    outbox = Outbox(store, sender, Pace(rate=100.0, per_chat_s=0.0, idle_s=0.05))
    await outbox.drain(30)
    delivered = [i for _, c, i in sender.sent if c == chat]
    assert delivered == [second, third], "the first is not sent again, the second is not lost"
    rows = {m["id"]: m for m in await outbox_of(store, (await store.get_user(chat))["id"])}
    assert rows[first]["status"] == "sent" and rows[first]["message_id"] == 777
    assert outbox.counters.recovered == 2


async def test_what_became_of_each_message_is_counted_in_the_metrics(store: Store, new_id) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    from ppb import metrics

    def counted() -> dict[tuple[str, tuple], float]:
        return {(s.name, tuple(sorted(s.labels.items()))): s.value
                for family in text_string_to_metric_families(metrics.local_text().decode()) for s in family.samples}

    before = counted()
    chats, _ids = await queue(store, new_id, chats=2, each=2)
    await Outbox(store, Recorder(flood_at={2}, blocked={chats[0]}), Pace(rate=100.0, per_chat_s=0.0, idle_s=0.05)).drain(30)
    after = counted()

    def grew(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert grew("ppb_outbox_messages_total", kind="push", outcome="sent") == 2
    assert grew("ppb_outbox_messages_total", kind="push", outcome="failed") == 2
    assert grew("ppb_outbox_flood_waits_total") == 1
    assert grew("ppb_outbox_paused_seconds_total") == pytest.approx(0.6)
