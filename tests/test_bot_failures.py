"""The bot through failures: training survives a bot restart (with REDIS_URL the FSM and the
chat registries live in Redis, so a new bot process carries on), and a database that is
down gets a short apology in the chat."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator

import httpx

from ppb.compose.bot import build_bot_app
from ppb.compose.web import http_app as build_app
from ppb.config import Settings, load_settings
from tests.bot_helpers import Person, serve
from tests.ports import free_port
from tests.conftest import REDIS_TEST_URL

API_KEY = "test-api-key"


@contextlib.asynccontextmanager
async def bot_process(settings: Settings) -> AsyncIterator[None]:
    """One bot's life: built from the settings alone, polling, then gone."""
    bot_app = build_bot_app(settings, retry_outage_s=15.0)
    polling = asyncio.create_task(bot_app.dispatcher.start_polling(
        bot_app.bot, handle_signals=False, close_bot_session=False, polling_timeout=5))
    try:
        yield
    finally:
        await bot_app.dispatcher.stop_polling()
        await polling
        await bot_app.close()


@contextlib.asynccontextmanager
async def served(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The real app (API, store, sandbox) on the settings' port, and a client for it."""
    app = build_app(settings)
    async with serve(app, settings.http_port) as base, httpx.AsyncClient(
        base_url=base, headers={"X-API-Key": API_KEY}, timeout=30
    ) as client:
        try:
            yield client
        finally:
            await app.state.sandbox.close()


def press_data(card: dict, label: str) -> str:
    return next(b["callback_data"] for row in card["reply_markup"]["inline_keyboard"] for b in row if b["text"] == label)


async def test_training_goes_on_after_the_bot_restarts(sqlite_url: str, new_id) -> None:
    settings = load_settings(
        DATABASE_URL=sqlite_url, PPB_API_KEY=API_KEY, PPB_HTTP_PORT=free_port(), PPB_DEMO_DATA=True,
        DEFAULT_CHANNELS="@ppb_demo_tech,@ppb_demo_kino", POSTS_PER_CHANNEL=2,
        REDIS_URL=REDIS_TEST_URL, PPB_RAY_NAMESPACE=f"restart-{uuid.uuid4().hex[:8]}",
    )
    async with served(settings) as client:
        person = Person(client, new_id())
        async with bot_process(settings):
            await person.say("/start")
            await person.tap("Start training")
            for number in (1, 2):
                card = await person.wait_text(f"Post {number} of 4")
                await person.press(card["message_id"], press_data(card, "👍"))
            third = await person.wait_text("Post 3 of 4")
        async with bot_process(settings):  # a new process: nothing in memory carried over
            await person.press(third["message_id"], press_data(third, "👎"))
            fourth = await person.wait_text("Post 4 of 4")
            await person.press(fourth["message_id"], press_data(fourth, "⏩"))
            await person.wait_text("Training complete")
        ratings = (await client.get(f"/api/v1/posts/interactions/{person.user_id}")).json()["interactions"]
        assert sorted(r["interaction_type"] for r in ratings) == ["dislike", "like", "like", "skip"]


async def test_a_database_that_is_down_gets_an_apology_in_the_chat(new_id) -> None:
    settings = load_settings(  # nothing listens on port 1: every query fails, the API answers 503
        DATABASE_URL="postgresql://postgres@127.0.0.1:1/ppb", PPB_API_KEY=API_KEY,
        PPB_HTTP_PORT=free_port(), PPB_DEMO_DATA=False,
    )
    async with served(settings) as client:
        person = Person(client, new_id())
        assert (await client.get("/readyz")).status_code == 503
        async with bot_process(settings):
            await person.say("/start")
            apology = await person.wait_text("PPB is having trouble right now")
            assert apology["from_bot"] and "Traceback" not in apology["text"]
