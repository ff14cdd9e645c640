"""Retention against the sandbox, with short timers: the real bot, the real API and store,
the nudger queuing its nudges in the outbox, the outbox sending them through the bot's HTTP
client to the emulator, and a person reading the chat and pressing its buttons."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from ppb.actors.nudger import Nudger
from ppb.actors.outbox import Outbox, Pace
from ppb.actors.outbox_nudges import OutboxNudgeSender
from ppb.actors.user_shard import UserShard
from ppb.bot.i18n import build_i18n
from ppb.bot.outbox_sender import BotOutboxSender
from ppb.compose.parts import nudger_settings
from ppb.config import load_settings
from ppb.core.scoring import Scoring
from ppb.store.queries import Store
from ppb.store.schema import outbox, users
from tests.bot_helpers import Harness, Person, buttons, running_bot, wait_for
from tests.ports import free_port
from tests.store_reads import nudges_of

API_KEY = "test-api-key"
QUIET_S, CHURN_S = 120.0, 600.0
NUDGE_HEADER = "While you were away"


@pytest.fixture(scope="module")
async def harness(sqlite_url: str) -> AsyncIterator[Harness]:
    settings = load_settings(
        DATABASE_URL=sqlite_url, PPB_API_KEY=API_KEY, PPB_HTTP_PORT=free_port(), PPB_DEMO_DATA=True,
        DEFAULT_CHANNELS="@ppb_demo_tech", POSTS_PER_CHANNEL=3,
        NUDGE_AFTER=QUIET_S, CHURN_AFTER=CHURN_S, PPB_NUDGE_DAILY_CAP=1,
    )
    async with running_bot(settings, API_KEY) as running:
        yield running


@pytest.fixture
async def store(harness: Harness) -> AsyncIterator[Store]:
    store = Store(harness.settings.async_database_url)
    await store.connect()
    yield store
    await store.disconnect()


def nudger_for(harness: Harness, store: Store) -> Nudger:
    """A nudger as the `nudger` actor builds it: its nudges queued in the outbox."""
    return Nudger(store, Scoring(store), UserShard(store, 600), OutboxNudgeSender(store), nudger_settings(harness.settings))


async def sent_by_the_outbox(harness: Harness, store: Store) -> None:
    """What is queued, sent as the `outbox` actor sends it: through the running bot."""
    sender = BotOutboxSender(harness.bot_app.bot, harness.bot_app.messages.registry, build_i18n(), store)
    await Outbox(store, sender, Pace(idle_s=0.05)).drain()


async def trained(harness: Harness, person: Person) -> None:
    await person.say("/start")
    await person.tap("Start training")
    for number in range(1, 4):
        card = await person.wait_text(f"Post {number} of 3")
        await person.press(card["message_id"], next(
            b["callback_data"] for row in card["reply_markup"]["inline_keyboard"] for b in row if b["text"] == "👍"
        ))
    await person.wait_text("Training complete")


async def quiet_for(store: Store, telegram_id: int, seconds: float) -> None:
    await store.database.execute(
        users.update().where(users.c.telegram_id == telegram_id)
        .values(last_activity_at=datetime.now(UTC) - timedelta(seconds=seconds))
    )


async def nudges_in(person: Person) -> list[dict]:
    return [m for m in await person.bot_messages() if NUDGE_HEADER in (m["text"] or "")]


async def test_a_quiet_user_gets_one_unseen_post_to_rate_in_the_chat(
    harness: Harness, store: Store, new_id
) -> None:
    person = harness.person(new_id())
    await trained(harness, person)
    rated = {row["post_id"] for row in (await harness.api("GET", f"/posts/interactions/{person.user_id}"))["interactions"]}
    await quiet_for(store, person.user_id, QUIET_S + 30)

    await nudger_for(harness, store).run_pass()
    await sent_by_the_outbox(harness, store)
    [nudge] = await wait_for(lambda: nudges_in(person), 10, "the nudge in the chat")
    assert {"👍", "👎"} <= set(buttons(nudge))
    [row] = await nudges_of(store, (await store.get_user(person.user_id))["id"])
    queued = await store.database.fetch_one(outbox.select().where(outbox.c.id == row["message_id"]))
    assert row["status"] == "sent" and queued is not None and queued.message_id == nudge["message_id"]
    assert row["post_id"] not in rated

    await nudger_for(harness, store).run_pass()  # the same quiet spell: nothing more
    await sent_by_the_outbox(harness, store)
    assert len(await nudges_in(person)) == 1

    await person.tap("👍")  # rated from the nudge, through the bot
    async def liked() -> bool:
        interactions = (await harness.api("GET", f"/posts/interactions/{person.user_id}"))["interactions"]
        return any(i["post_id"] == row["post_id"] and i["interaction_type"] == "like" for i in interactions)
    await wait_for(liked, 10, "the rating from the nudge")


async def test_churned_after_the_churn_time_and_back_on_any_message(
    harness: Harness, store: Store, new_id
) -> None:
    person = harness.person(new_id())
    # Trained and active through the API (as from the Mini App): the bot has not seen them yet.
    await harness.api("POST", "/users/", {"telegram_id": person.user_id, "first_name": "Ann"})
    for event in ["start", "start_training", "complete_training", "view_feed"]:
        await harness.api("POST", f"/users/{person.user_id}/events", {"event": event})
    await quiet_for(store, person.user_id, CHURN_S + 30)
    report = await nudger_for(harness, store).run_pass()
    assert report.churned >= 1
    assert (await harness.api("GET", f"/users/{person.user_id}"))["status"] == "churned"
    assert await nudges_in(person) == []  # churned users are not nudged

    await person.say("hello")  # any activity
    await wait_for(lambda: _status_is(harness, person, "active"), 10, "the person back to active")


async def _status_is(harness: Harness, person: Person, status: str) -> bool:
    return (await harness.api("GET", f"/users/{person.user_id}"))["status"] == status
