"""Webhook mode: the sandbox POSTs updates to the app's webhook route, checked by secret."""

from __future__ import annotations

import httpx

from ppb.compose.web import http_app as build_app
from ppb.config import load_settings
from ppb.http.webhook import PATH, register_webhook
from tests.bot_helpers import Person, serve
from tests.ports import free_port

API_KEY = "test-api-key"


async def test_updates_arrive_by_webhook_and_a_wrong_secret_is_refused(sqlite_url: str, new_id) -> None:
    settings = load_settings(DATABASE_URL=sqlite_url, PPB_API_KEY=API_KEY, PPB_HTTP_PORT=free_port(),
                             BOT_MODE="webhook", WEBHOOK_SECRET="hook-secret", DEFAULT_CHANNELS="@ppb_demo_tech")
    app = build_app(settings)
    async with serve(app, settings.http_port) as base, httpx.AsyncClient(base_url=base) as client:
        try:
            forged = await client.post(PATH, json={"update_id": 1}, headers={"X-Telegram-Bot-Api-Secret-Token": "x"})
            assert forged.status_code == 401 and forged.json()["status_code"] == 401
            assert app.state.sandbox.commands == {}
            await register_webhook(settings)
            assert app.state.sandbox.webhook_url == f"{base}{PATH}"
            commands = app.state.sandbox.commands  # set with the webhook, as polling sets them
            assert {c["command"] for c in commands[""]} >= {"start", "feed", "help"} and "ru" in commands
            person = Person(client, new_id())
            await person.say("/start")
            menu = await person.wait_text("Hi, Ann")
            assert "🚀 Start training" in [b["text"] for row in menu["reply_markup"]["inline_keyboard"] for b in row]
            await person.tap("Start training")
            await person.wait_text("Post 1 of")
        finally:
            await app.state.sandbox.close()
            if hasattr(app.state, "webhook_bot"):
                await app.state.webhook_bot.close()
