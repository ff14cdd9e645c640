"""The scraper on the Telegram stand inside the whole of PPB: the real app and bot, the
deliverer and the outbox in this loop. A post arriving as an update reaches a follower live;
its edit follows in the store and is not pushed again; a post deleted while it waits for a
digest leaves the digest; a person adding a private channel is told why it cannot be."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from ppb.actors.delivery import Deliverer
from ppb.actors.outbox import Outbox, Pace
from ppb.bot.app import build_bot
from ppb.bot.i18n import build_i18n
from ppb.bot.outbox_sender import BotOutboxSender
from ppb.compose.bot import build_registry
from ppb.compose.core import build_services
from ppb.compose.parts import caps
from ppb.config import load_settings
from ppb.core.scoring import Scoring
from ppb.domain.channels import ChannelName
from ppb.scraper.client import LocalScraperClient
from ppb.scraper.session import Scraper
from ppb.store.migrate import upgrade_async
from ppb.store.queries import Store
from tests.bot_helpers import Harness, running_bot, wait_for
from tests.ports import free_port
from tests.telegram_stand import TelegramStand, scraper_clients
from tests.test_formatting_sandbox import trained_follower

API_KEY = "test-api-key"
FRESH = "Go 1.22 released: a faster compiler, better tooling and new generics features for developers"
EDITED = "Go 1.22 released: a faster compiler, better tooling, new generics and a range-over-func preview"
LATER = "Kubernetes 1.30 released: faster scheduling, better tooling and sidecar containers for developers"
OFF_TOPIC = "Recipe: a lemon tart with butter, sugar, eggs and a crisp pastry baked in the oven"


@dataclass
class Sandbox:
    harness: Harness
    store: Store
    stand: TelegramStand
    scraper: Scraper
    session: str


@pytest.fixture(scope="module")
async def sandbox(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Sandbox]:
    database_url = f"sqlite:///{tmp_path_factory.mktemp('scraper_sandbox') / 'ppb.db'}"
    await upgrade_async(load_settings(DATABASE_URL=database_url).async_database_url)
    settings = load_settings(DATABASE_URL=database_url, PPB_API_KEY=API_KEY, PPB_HTTP_PORT=free_port(),
                             PPB_DEMO_DATA=False, DEFAULT_CHANNELS="@nothing_here")
    stand = TelegramStand()
    session = stand.session_string()
    services = build_services(settings)
    scraper = Scraper(services.store, scraper_clients(stand, session), name="sandbox")
    async with running_bot(settings, API_KEY, services=services.with_scraper(LocalScraperClient(scraper))) as harness:
        store = Store(settings.async_database_url)
        await store.connect()
        bot = build_bot(settings, harness.base, wait_out_floods=False)
        outbox = Outbox(store, BotOutboxSender(bot, build_registry(settings), build_i18n()),
                        Pace(rate=30, per_chat_s=1.0, idle_s=0.1))
        deliverer = Deliverer(store, Scoring.from_settings(store, settings), caps(settings))
        tasks = [asyncio.create_task(outbox.run()), asyncio.create_task(deliverer.run(0.2, 3600))]
        try:
            yield Sandbox(harness, store, stand, scraper, session)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await outbox.stop()
            await bot.session.close()
            await store.disconnect()
    await scraper.close()


async def followed_channel(sandbox: Sandbox, new_id) -> tuple[object, object, int]:
    """A channel on Telegram, joined by the scraper, and a person trained on its stored posts."""
    bare = new_id()
    username = f"live{bare % 10**9}"
    person = await trained_follower(sandbox.harness, new_id, -(10**12 + bare), username)
    channel = sandbox.stand.add_channel(username, "Dev <&> Food", bare_id=bare)
    channel.last_id = 1000  # past the posts the person trained on
    assert (await sandbox.scraper.join(f"@{username}"))["status"] == "joined"
    return channel, person, await sandbox.store.user_id(person.user_id)


async def test_a_post_arriving_as_an_update_is_pushed_once_and_its_edit_follows(sandbox: Sandbox, new_id) -> None:
    channel, person, _ = await followed_channel(sandbox, new_id)
    message = sandbox.stand.post(channel, FRESH, date=datetime.now(UTC))  # UpdateNewChannelMessage
    push = await person.wait_text("Go 1.22 released", deadline_s=20)
    assert push["text"].startswith("🔔 Dev <&> Food") and FRESH in push["text"]

    sandbox.stand.edit(channel, message.id, EDITED)  # UpdateEditChannelMessage

    row = await sandbox.store.get_channel(ChannelName(telegram_id=channel.marked_id))

    async def edited() -> bool:
        return any(post["text"] == EDITED for post in await sandbox.store.latest_posts([row["id"]], 50))

    await wait_for(edited, 20, "the edit to reach the store")
    sandbox.stand.post(channel, LATER, date=datetime.now(UTC))
    await person.wait_text("Kubernetes 1.30", deadline_s=20)  # the deliverer has passed the edit by now
    pushes = [m for m in await person.bot_messages() if "Go 1.22 released" in (m.get("text") or "")]
    assert len(pushes) == 1, "an edited post is not pushed again"


async def test_a_post_deleted_while_it_waits_for_the_digest_leaves_it(sandbox: Sandbox, new_id) -> None:
    channel, person, user_id = await followed_channel(sandbox, new_id)
    message = sandbox.stand.post(channel, OFF_TOPIC, date=datetime.now(UTC))

    async def waiting() -> list[str]:
        return [row["text"] for row in await sandbox.store.waiting_posts(user_id)]

    async def is_waiting() -> bool:
        return OFF_TOPIC in await waiting()

    await wait_for(is_waiting, 20, "the off-topic post to wait for the digest")
    sandbox.stand.delete(channel, message.id)  # UpdateDeleteChannelMessages

    async def gone() -> bool:
        return OFF_TOPIC not in await waiting()

    await wait_for(gone, 20, "the deleted post to leave the digest")


async def test_a_person_adding_a_private_channel_is_told_why_not(sandbox: Sandbox, new_id) -> None:
    closed = sandbox.stand.add_channel(f"closed{new_id() % 10**9}", "Closed club")
    account = sandbox.stand.account_of(sandbox.session)
    assert account is not None
    sandbox.stand.ban(closed, account)  # this account may not read it: CHANNEL_PRIVATE
    person = sandbox.harness.person(new_id())
    await person.say("/start")
    await person.find_button("Start training")

    await person.say(f"@{closed.username}")
    told = await person.wait_text("is a private channel", deadline_s=20)
    assert told["text"] == f"@{closed.username} is a private channel, so I can't read it. I can only follow public channels."
    await person.say("https://t.me/+AbCdEfGh12345")
    await person.wait_text("That's an invite link to a private channel", deadline_s=20)
