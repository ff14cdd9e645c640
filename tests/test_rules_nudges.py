"""Nudges respect the person's rules (a muted word, a channel on never, are never nudged; a
must-see post is) and go through the
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
from ppb.domain.rules import ChannelDial
from tests.test_nudger import CHURN, QUIET, TOPICS, RecordingChat, quiet_for, trained_user
from tests.store_reads import nudges_of, outbox_of


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
    queued = [m for m in await outbox_of(store, user_id) if m["kind"] == "nudge"]
    assert len(queued) == 1 and queued[0]["chat_id"] == telegram_id
    post_id = queued[0]["payload"]["post"]["id"]
    assert post_id in post_ids[2:]
    assert await sender.find_nudge(telegram_id, post_id) == queued[0]["id"]
    again = await sender.send_nudge(telegram_id, None, {"id": post_id, "text": "x"})
    assert again == queued[0]["id"], "queuing the same nudge again finds the first"
    nudges = await nudges_of(store, user_id)
    assert [(n["status"], n["message_id"]) for n in nudges] == [("sent", queued[0]["id"])]


async def test_a_nudge_brings_a_must_see_post_and_never_one_of_a_channel_on_never(
        store: Store, shard: UserShard, new_id) -> None:
    chat = RecordingChat()
    ranker = FeedRanker(Scoring(store), store, quiet_when_blocked=True)
    plain_id, _, plain_posts = await trained_user(store, new_id, shard)
    await quiet_for(store, plain_id, QUIET + 60)
    await Nudger(store, ranker, shard, chat, NudgerSettings(QUIET, CHURN, 1, 1000)).run_pass()
    (chosen,) = chat.posts_sent_to(plain_id)
    wanted = next(n for n in range(2, len(TOPICS)) if plain_posts[n] != chosen)  # not what the model picks

    telegram_id, user_id, post_ids = await trained_user(store, new_id, shard)
    await core_rules.update(store, user_id, {"must_words": (TOPICS[wanted].split()[0].upper(),)})
    await quiet_for(store, telegram_id, QUIET + 60)
    await Nudger(store, ranker, shard, chat, NudgerSettings(QUIET, CHURN, 1, 1000)).run_pass()
    assert chat.posts_sent_to(telegram_id) == [post_ids[wanted]], "the must-see post is the one nudged"

    other_id, other_user, _ = await trained_user(store, new_id, shard)
    (channel_id,) = await store.user_channel_ids(other_user)
    await core_rules.update(store, other_user, {"channel_dials": {channel_id: ChannelDial.NEVER}})
    await quiet_for(store, other_id, QUIET + 60)
    await Nudger(store, ranker, shard, chat, NudgerSettings(QUIET, CHURN, 1, 1000)).run_pass()
    assert chat.posts_sent_to(other_id) == [], "the only channel is on never: nothing to nudge"
