"""Nudges respect the person's rules (a muted word is never nudged) and go through the
outbox: queued once per post, found again by a nudger that stopped half-way."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ppb.actors.nudger import Nudger, NudgerSettings
from ppb.actors.outbox_nudges import OutboxNudgeSender
from ppb.actors.user_shard import UserShard
from ppb.core import rules as core_rules
from ppb.core.variants import FeedRanker
from ppb.core.scoring import Scoring
from ppb.store.queries import Store
from tests.test_nudger import CHURN, QUIET, RecordingChat, quiet_for, trained_user


@pytest.fixture
def shard(store: Store) -> UserShard:
    return UserShard(store, idle_after=600)


async def test_a_muted_word_is_never_nudged(store: Store, shard: UserShard, new_id) -> None:
    telegram_id, user_id, post_ids = await trained_user(store, new_id, shard)
    await core_rules.update(store, user_id, {"mute_words": ("bank", "JAZZ", "mountain", "bread", "electric")})
    await quiet_for(store, telegram_id, QUIET + 60)
    chat = RecordingChat()
    ranker = FeedRanker(Scoring(store), store, quiet_when_blocked=True)
    await Nudger(store, ranker, shard, chat, NudgerSettings(QUIET, CHURN, 1, 1000)).run_pass()
    assert chat.posts_sent_to(telegram_id) == [post_ids[5]], "the only unrated post without a muted word (chess)"


async def test_a_nudge_is_queued_in_the_outbox_once(store: Store, shard: UserShard, new_id) -> None:
    telegram_id, user_id, post_ids = await trained_user(store, new_id, shard)
    await quiet_for(store, telegram_id, QUIET + 60)
    sender = OutboxNudgeSender(store)
    nudger = Nudger(store, Scoring(store), shard, sender, NudgerSettings(QUIET, CHURN, 1, 1000),
                    lambda: datetime.now(UTC))
    await nudger.run_pass()
    queued = [m for m in await store.outbox_of(user_id) if m["kind"] == "nudge"]
    assert len(queued) == 1 and queued[0]["chat_id"] == telegram_id
    post_id = queued[0]["payload"]["post"]["id"]
    assert post_id in post_ids[2:]
    assert await sender.find_nudge(telegram_id, post_id) == queued[0]["id"]
    again = await sender.send_nudge(telegram_id, None, {"id": post_id, "text": "x"})
    assert again == queued[0]["id"], "queuing the same nudge again finds the first"
    nudges = await store.list_nudges(user_id)
    assert [(n["status"], n["message_id"]) for n in nudges] == [("sent", queued[0]["id"])]
