"""Retention as plain Python over the real store: quiet users get one unseen post per quiet
spell within the daily cap, long-silent users are churned, and a nudger stopped half-way
neither loses nor repeats a nudge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ppb.actors.nudger import Nudger, NudgerSettings, Undeliverable
from ppb.actors.user_shard import UserShard
from ppb.core.scoring import Scoring
from ppb.domain.interactions import InteractionType
from ppb.domain.status import UserEvent
from ppb.store.queries import NewPost, Row, Store
from ppb.store.schema import users
from tests.store_reads import nudges_of

QUIET = 3600.0
CHURN = 7 * 86400.0
JOURNEY = [UserEvent.START, UserEvent.START_TRAINING, UserEvent.COMPLETE_TRAINING]
TOPICS = ["rockets and launch pads", "football derby goals", "central bank rates", "jazz records",
          "mountain hiking trails", "chess openings", "sourdough bread baking", "electric cars"]


class RecordingChat:
    """The nudges a chat received, as the bot would deliver them (the stand-in for Telegram)."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, int, int]] = []  # (telegram_id, post_id, message_id)
        self.fail_after_send = False
        self.blocked: set[int] = set()

    async def send_nudge(self, telegram_id: int, language: str | None, post: Row) -> int:
        if telegram_id in self.blocked:
            raise Undeliverable("bot was blocked by the user")
        message_id = 1000 + len(self.sent)
        self.sent.append((telegram_id, post["id"], message_id))
        if self.fail_after_send:
            raise ConnectionError("the process died right after Telegram took the message")
        return message_id

    async def find_nudge(self, telegram_id: int, post_id: int) -> int | None:
        return next((m for t, p, m in self.sent if (t, p) == (telegram_id, post_id)), None)

    def posts_sent_to(self, telegram_id: int) -> list[int]:
        return [p for t, p, _ in self.sent if t == telegram_id]


async def trained_user(store: Store, new_id, shard: UserShard, *, rated: int = 2) -> tuple[int, int, list[int]]:
    telegram_id = new_id()
    user, _ = await store.upsert_user(telegram_id, None, None, None)
    channel = await store.upsert_channel(-1000000000000 - new_id(), f"retain{new_id()}", "Retention")
    now = datetime.now(UTC)
    _, post_ids = await store.add_posts(
        channel["id"],
        [NewPost(n + 1, f"Post {n} about {TOPICS[n]}", "text", now - timedelta(hours=n)) for n in range(len(TOPICS))],
    )
    await store.link_channels(user["id"], [channel["id"]], for_training=True)
    for post_id in post_ids[:rated]:
        await store.rate(telegram_id, post_id, InteractionType.LIKE)
    for event in JOURNEY:
        await shard.apply(telegram_id, event)
    return telegram_id, user["id"], post_ids


async def quiet_for(store: Store, telegram_id: int, seconds: float, now: datetime | None = None) -> None:
    """Make the user's last activity `seconds` before `now` (the present by default)."""
    now = datetime.now(UTC) if now is None else now
    await store.database.execute(
        users.update()
        .where(users.c.telegram_id == telegram_id)
        .values(last_activity_at=now - timedelta(seconds=seconds))
    )


def nudger(
    store: Store, chat: RecordingChat, shard: UserShard, cap: int = 1, now: datetime | None = None
) -> Nudger:
    clock = (lambda: now) if now is not None else (lambda: datetime.now(UTC))
    # the store looked at again for vectors at most hourly: a pass's statements do not depend on its speed
    scoring = Scoring(store, complete_every_s=3600.0)
    return Nudger(store, scoring, shard, chat, NudgerSettings(QUIET, CHURN, cap, 1000), clock)


@pytest.fixture
def shard(store: Store) -> UserShard:
    return UserShard(store, idle_after=600)


async def test_a_quiet_user_is_nudged_once_with_a_post_never_rated(store: Store, shard: UserShard, new_id) -> None:
    chat = RecordingChat()
    telegram_id, _, post_ids = await trained_user(store, new_id, shard)
    busy_id, _, _ = await trained_user(store, new_id, shard)
    await quiet_for(store, telegram_id, QUIET + 60)

    report = await nudger(store, chat, shard).run_pass()
    assert report.nudged >= 1
    sent = chat.posts_sent_to(telegram_id)
    assert len(sent) == 1 and sent[0] in post_ids[2:]  # the first two were rated
    assert chat.posts_sent_to(busy_id) == []  # not quiet yet

    await nudger(store, chat, shard).run_pass()
    assert chat.posts_sent_to(telegram_id) == sent  # one nudge per quiet spell


async def test_a_post_already_in_the_chat_is_not_nudged(store: Store, shard: UserShard, new_id) -> None:
    chat = RecordingChat()
    telegram_id, user_id, post_ids = await trained_user(store, new_id, shard)
    await store.add_chat_posts(user_id, post_ids[2:-1])  # the feed sent all but the last one
    await quiet_for(store, telegram_id, QUIET + 60)
    await nudger(store, chat, shard).run_pass()
    assert chat.posts_sent_to(telegram_id) == [post_ids[-1]]


async def test_the_daily_cap_holds_across_quiet_spells(store: Store, shard: UserShard, new_id) -> None:
    for cap, expected in [(1, 1), (2, 2)]:
        chat = RecordingChat()
        telegram_id, _, _ = await trained_user(store, new_id, shard)
        start = datetime.now(UTC)
        for spell in range(1, 4):  # three quiet spells in one day, each after a return
            now = start + timedelta(seconds=spell * (QUIET + 600))
            await quiet_for(store, telegram_id, QUIET + 60, now)
            await nudger(store, chat, shard, cap=cap, now=now).run_pass()
        sent = chat.posts_sent_to(telegram_id)
        assert len(sent) == expected
        assert len(set(sent)) == len(sent)  # never the same post twice


async def test_long_silent_active_users_are_churned_and_return(store: Store, shard: UserShard, new_id) -> None:
    chat = RecordingChat()
    telegram_id, _, _ = await trained_user(store, new_id, shard)
    await shard.apply(telegram_id, UserEvent.VIEW_FEED)
    await quiet_for(store, telegram_id, CHURN + 60)
    report = await nudger(store, chat, shard).run_pass()
    assert report.churned >= 1
    assert (await store.get_user(telegram_id))["status"] == "churned"
    assert chat.posts_sent_to(telegram_id) == []  # churned users are not nudged
    back = await shard.apply(telegram_id, UserEvent.ACTIVITY)
    assert back["status"] == "active"


async def test_a_nudger_stopped_after_sending_does_not_send_again(store: Store, shard: UserShard, new_id) -> None:
    chat = RecordingChat()
    telegram_id, user_id, _ = await trained_user(store, new_id, shard)
    await quiet_for(store, telegram_id, QUIET + 60)
    chat.fail_after_send = True
    await nudger(store, chat, shard).run_pass()
    assert [n["status"] for n in await nudges_of(store, user_id)] == ["pending"]

    chat.fail_after_send = False
    report = await nudger(store, chat, shard).run_pass()  # a new nudger, as after a restart
    assert report.resumed == 1
    assert len(chat.posts_sent_to(telegram_id)) == 1
    assert [n["status"] for n in await nudges_of(store, user_id)] == ["sent"]


async def test_a_nudger_stopped_before_sending_sends_once_on_restart(store: Store, shard: UserShard, new_id) -> None:
    chat = RecordingChat()
    telegram_id, user_id, post_ids = await trained_user(store, new_id, shard)
    await store.claim_nudges([(user_id, post_ids[5])], datetime.now(UTC))  # claimed, then the process died
    report = await nudger(store, chat, shard).run_pass()
    assert report.resumed == 1
    assert chat.posts_sent_to(telegram_id) == [post_ids[5]]
    assert [n["status"] for n in await nudges_of(store, user_id)] == ["sent"]


async def test_a_user_who_blocked_the_bot_does_not_stop_the_pass(store: Store, shard: UserShard, new_id) -> None:
    chat = RecordingChat()
    blocked, blocked_user, _ = await trained_user(store, new_id, shard)
    other, _, _ = await trained_user(store, new_id, shard)
    for telegram_id in (blocked, other):
        await quiet_for(store, telegram_id, QUIET + 60)
    chat.blocked.add(blocked)
    await nudger(store, chat, shard).run_pass()
    assert len(chat.posts_sent_to(other)) == 1
    assert [n["status"] for n in await nudges_of(store, blocked_user)] == ["undeliverable"]
    due = await store.due_for_nudge(datetime.now(UTC), QUIET, 5, 1000)
    assert blocked not in {user["telegram_id"] for user in due}  # not tried again every pass
