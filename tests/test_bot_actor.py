"""The `bot` actor: polling from a Ray actor, message ids in the `chats-<k>` shards."""

from __future__ import annotations

import asyncio
from functools import partial

import httpx

from ppb.actors.bot import start_bot, stop_bot
from ppb.compose.parts import build_polling_bot
from ppb.compose.web import http_app as build_app
from ppb.config import load_settings
from tests.bot_helpers import Person, serve
from tests.ports import free_port

API_KEY = "test-api-key"


async def test_the_bot_actor_polls_the_sandbox(ray_session: None, sqlite_url: str, new_id) -> None:
    settings = load_settings(DATABASE_URL=sqlite_url, PPB_API_KEY=API_KEY, PPB_HTTP_PORT=free_port(),
                             PPB_CHAT_SHARDS=1, DEFAULT_CHANNELS="@ppb_demo_tech")
    app = build_app(settings)
    async with serve(app, settings.http_port) as base, httpx.AsyncClient(base_url=base) as client:
        try:
            await asyncio.to_thread(lambda: start_bot(settings, partial(build_polling_bot, use_scorer=False)))
            person = Person(client, new_id())
            await person.say("/start")
            await person.wait_text("Hi, Ann", deadline_s=60)
            await person.say("/help")
            await person.wait_text("/feed: your best posts now", deadline_s=30)
        finally:
            await asyncio.to_thread(stop_bot, settings)
            await app.state.sandbox.close()
