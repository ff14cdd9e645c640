"""The Bot API emulator over real HTTP: aiogram's own client, raw requests, the person's side."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramBadRequest, TelegramRetryAfter, TelegramServerError
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.web_app import safe_parse_webapp_init_data
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ppb.compose.web import http_app as build_app
from ppb.config import load_settings
from ppb.sandbox.emulator import Emulator
from ppb.sandbox.routes import mount_sandbox
from tests.bot_helpers import Person, serve, wait_for



class Sandbox:
    def __init__(self, base: str, emulator: Emulator, client: httpx.AsyncClient, bot: Bot) -> None:
        self.base, self.emulator, self.client, self.bot = base, emulator, client, bot

    def raw(self, method: str) -> str:
        return f"/sandbox/botapi/bot{self.emulator.token}/{method}"


@pytest.fixture(scope="module")
async def sandbox() -> AsyncIterator[Sandbox]:
    app = Starlette()
    emulator = mount_sandbox(app, load_settings())
    async with serve(app) as base, httpx.AsyncClient(base_url=base) as client:
        session = AiohttpSession(api=TelegramAPIServer.from_base(f"{base}/sandbox/botapi"))
        bot = Bot(emulator.token, session=session, default=DefaultBotProperties(parse_mode="HTML"))
        yield Sandbox(base, emulator, client, bot)
        await bot.session.close()
        await emulator.close()


def markup(*labels: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=label, callback_data=label.lower()) for label in labels]]
    )


async def drain(bot: Bot) -> list[Any]:
    updates = await bot.get_updates(timeout=0)
    if updates:
        await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
    return updates


async def test_get_me_answers_json_form_and_query_encodings(sandbox: Sandbox) -> None:
    me = await sandbox.bot.get_me()
    assert me.is_bot and me.username == "ppb_sandbox_bot" and me.id == sandbox.emulator.bot_id
    as_form = await sandbox.client.post(sandbox.raw("getMe"), data={"x": "1"})
    as_json = await sandbox.client.post(sandbox.raw("getMe"), json={})
    as_get = await sandbox.client.get(sandbox.raw("getMe"))
    assert as_form.json() == as_json.json() == as_get.json()
    assert as_get.json()["result"]["id"] == me.id


async def test_errors_have_the_bot_api_shape(sandbox: Sandbox) -> None:
    wrong = await sandbox.client.get("/sandbox/botapi/bot123:nope/getMe")
    assert (wrong.status_code, wrong.json()) == (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
    unknown = await sandbox.client.post(sandbox.raw("sendTelepathy"), json={})
    assert unknown.status_code == 404 and unknown.json()["ok"] is False
    stranger = await sandbox.client.post(sandbox.raw("sendMessage"), json={"chat_id": 987654321, "text": "hi"})
    assert stranger.status_code == 403
    assert stranger.json()["description"] == "Forbidden: bot can't initiate conversation with a user"


async def test_long_polling_waits_for_a_message_and_offset_confirms(sandbox: Sandbox, new_id) -> None:
    await drain(sandbox.bot)
    person = Person(sandbox.client, new_id())
    waiting = asyncio.create_task(sandbox.bot.get_updates(timeout=20))
    await wait_for(lambda: _true(not waiting.done()), 2, "the poll to be pending")
    await person.say("hello there")
    updates = await asyncio.wait_for(waiting, 10)
    assert [u.message.text for u in updates] == ["hello there"]
    assert updates[0].message.from_user.id == person.user_id and updates[0].message.chat.type == "private"
    again = await sandbox.bot.get_updates(timeout=0)
    assert [u.update_id for u in again] == [updates[0].update_id], "unconfirmed updates are sent again"
    assert await sandbox.bot.get_updates(offset=updates[0].update_id + 1, timeout=0) == []


async def _true(value: bool) -> bool:
    return value


async def test_the_person_sees_html_as_text_and_edits_in_place(sandbox: Sandbox, new_id) -> None:
    person = Person(sandbox.client, new_id())
    await person.say("/start")
    sent = await sandbox.bot.send_message(person.user_id, "<b>Menu</b> &amp; more", reply_markup=markup("One"))
    assert sent.text == "Menu & more" and sent.entities[0].type == "bold"
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await sandbox.bot.edit_message_text("<b>Menu</b> &amp; more", chat_id=person.user_id,
                                            message_id=sent.message_id, reply_markup=markup("One"))
    await sandbox.bot.edit_message_text("Second", chat_id=person.user_id, message_id=sent.message_id,
                                        reply_markup=markup("Two"))
    await sandbox.bot.edit_message_reply_markup(chat_id=person.user_id, message_id=sent.message_id,
                                                reply_markup=markup("Three"))
    seen = [m for m in await person.messages() if m["message_id"] == sent.message_id][0]
    assert seen["text"] == "Second" and seen["edited"]
    assert seen["reply_markup"]["inline_keyboard"][0][0]["text"] == "Three"
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await sandbox.bot.send_message(person.user_id, "<b>unclosed")


async def test_deleting_follows_telegram_rules(sandbox: Sandbox, new_id) -> None:
    person = Person(sandbox.client, new_id())
    said = await person.say("hi")
    first = await sandbox.bot.send_message(person.user_id, "one")
    second = await sandbox.bot.send_message(person.user_id, "two")
    assert await sandbox.bot.delete_message(person.user_id, first.message_id)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await sandbox.bot.delete_message(person.user_id, first.message_id)
    assert await sandbox.bot.delete_messages(person.user_id, [said, first.message_id, 999])
    assert [m["text"] for m in await person.messages()] == ["two"]
    real_clock = sandbox.emulator.clock
    sandbox.emulator.clock = lambda: real_clock() + 48 * 3600 + 1
    try:
        with pytest.raises(TelegramBadRequest, match="can't be deleted for everyone"):
            await sandbox.bot.delete_message(person.user_id, second.message_id)
    finally:
        sandbox.emulator.clock = real_clock
    assert [m["text"] for m in await person.messages()] == ["two"]


async def test_photos_and_albums(sandbox: Sandbox, new_id) -> None:
    person = Person(sandbox.client, new_id())
    await person.say("hi")
    uploaded = await sandbox.bot.send_photo(person.user_id, BufferedInputFile(b"\x89PNG", "a.png"), caption="<i>cap</i>")
    assert uploaded.photo and uploaded.caption == "cap"
    album = await sandbox.bot.send_media_group(
        person.user_id, [{"type": "photo", "media": "file-a"}, {"type": "photo", "media": "file-b"}]
    )
    assert len(album) == 2 and album[0].media_group_id == album[1].media_group_id


async def test_buttons_reach_the_bot_and_answers_reach_the_person(sandbox: Sandbox, new_id) -> None:
    person = Person(sandbox.client, new_id())
    await person.say("hi")
    await drain(sandbox.bot)
    sent = await sandbox.bot.send_message(person.user_id, "Pick", reply_markup=markup("Yes"))
    missing = await sandbox.client.post(f"/sandbox/api/chats/{person.user_id}/callbacks",
                                        json={"message_id": sent.message_id, "data": "no"})
    assert missing.status_code == 422 and "no button" in missing.json()["detail"]
    await person.press(sent.message_id, "yes")
    updates = await drain(sandbox.bot)
    query = updates[-1].callback_query
    assert query.data == "yes" and query.message.message_id == sent.message_id
    await sandbox.bot.answer_callback_query(query.id, text="Saved")
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await sandbox.bot.answer_callback_query(query.id, text="again")
    assert (await person.chat())["answers"][-1]["text"] == "Saved"


async def test_injected_429_and_outage(sandbox: Sandbox, new_id) -> None:
    person = Person(sandbox.client, new_id())
    await person.say("hi")
    await sandbox.client.post("/sandbox/api/faults", json={"method": "sendMessage", "error_code": 429, "retry_after": 3})
    with pytest.raises(TelegramRetryAfter) as caught:
        await sandbox.bot.send_message(person.user_id, "x")
    assert caught.value.retry_after == 3
    await sandbox.client.post("/sandbox/api/faults", json={"outage": True})
    try:
        with pytest.raises(TelegramServerError):
            await sandbox.bot.get_me()
    finally:
        await sandbox.client.delete("/sandbox/api/faults")
    assert (await sandbox.bot.send_message(person.user_id, "after")).text == "after"


async def test_webhook_delivers_with_the_secret_and_retries(sandbox: Sandbox, new_id) -> None:
    received: list[tuple[str | None, dict[str, Any]]] = []
    failures = [1]

    async def hook(request: Request) -> Response:
        if failures:
            failures.pop()
            return Response(status_code=500)
        received.append((request.headers.get("x-telegram-bot-api-secret-token"), await request.json()))
        return Response(status_code=200)

    person = Person(sandbox.client, new_id())
    await drain(sandbox.bot)
    async with serve(Starlette(routes=[Route("/hook", hook, methods=["POST"])])) as base:
        await sandbox.bot.set_webhook(f"{base}/hook", secret_token="s3cret")
        try:
            with pytest.raises(Exception, match="Conflict"):
                await sandbox.bot.get_updates(timeout=0)
            await person.say("via webhook")
            await wait_for(lambda: _true(bool(received)), 10, "the webhook delivery")
        finally:
            await sandbox.bot.delete_webhook()
    secret, update = received[0]
    assert secret == "s3cret" and update["message"]["text"] == "via webhook"
    assert (await sandbox.bot.get_webhook_info()).pending_update_count == 0


async def test_webapp_init_data_is_signed_with_the_bot_token(sandbox: Sandbox, new_id) -> None:
    person = Person(sandbox.client, new_id(), first_name="Mia")
    await person.say("hi")
    signed = (await sandbox.client.get(f"/sandbox/api/chats/{person.user_id}/webapp",
                                       params={"url": "https://app.example/miniapp/"})).json()
    assert signed["url"].startswith("https://app.example/miniapp/#tgWebAppData=")
    data = safe_parse_webapp_init_data(sandbox.emulator.token, signed["init_data"])
    assert data.user.id == person.user_id and data.user.first_name == "Mia"
    with pytest.raises(ValueError):
        safe_parse_webapp_init_data("1:forged", signed["init_data"])


async def test_the_chat_page_never_injects_html(sandbox: Sandbox) -> None:
    page = await sandbox.client.get("/sandbox/")
    script = await sandbox.client.get("/sandbox/static/chat.js")
    assert page.status_code == script.status_code == 200
    assert "chat.js" in page.text and "textContent" in script.text
    assert "innerHTML" not in script.text and "insertAdjacentHTML" not in script.text


def test_the_app_mounts_the_sandbox_only_without_a_bot_token(database_url: str) -> None:
    def paths(**env: Any) -> set[str]:
        app = build_app(load_settings(DATABASE_URL=database_url, PPB_API_KEY="k", **env))
        return {getattr(route, "path", "") for route in app.routes}

    assert "/sandbox" in paths()
    assert "/sandbox" not in paths(BOT_TOKEN="1:abc")
    assert "/sandbox" not in paths(PPB_SANDBOX="0")


async def test_sandbox_paths_need_no_api_key(database_url: str) -> None:
    app = build_app(load_settings(DATABASE_URL=database_url, PPB_API_KEY="k"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as client:
        assert (await client.get("/sandbox/api/bot")).status_code == 200
        assert (await client.get("/api/v1/channels/")).status_code == 401


async def test_the_menu_button_is_set_per_chat_or_for_all_as_telegram_does(sandbox: Sandbox, new_id) -> None:
    from aiogram.types import MenuButtonCommands, MenuButtonDefault, MenuButtonWebApp, WebAppInfo

    ann, bob = Person(sandbox.client, new_id()), Person(sandbox.client, new_id())
    await ann.say("hi")
    await bob.say("hi")
    assert isinstance(await sandbox.bot.get_chat_menu_button(), MenuButtonDefault), "nothing set: default"
    assert (await bob.chat())["menu_button"]["type"] == "commands", "the default button lists the commands"

    app = MenuButtonWebApp(text="📱 PPB", web_app=WebAppInfo(url="http://127.0.0.1/miniapp/"))
    assert await sandbox.bot.set_chat_menu_button(menu_button=app)
    found = await sandbox.bot.get_chat_menu_button()
    assert isinstance(found, MenuButtonWebApp) and found.text == "📱 PPB"
    assert found.web_app.url == "http://127.0.0.1/miniapp/"
    assert isinstance(await sandbox.bot.get_chat_menu_button(chat_id=bob.user_id), MenuButtonDefault), \
        "a chat without its own button reports default (the bot's default applies)"
    assert (await bob.chat())["menu_button"] == {"type": "web_app", "text": "📱 PPB",
                                                "web_app": {"url": "http://127.0.0.1/miniapp/"}}

    await sandbox.bot.set_chat_menu_button(chat_id=ann.user_id, menu_button=MenuButtonCommands())
    assert isinstance(await sandbox.bot.get_chat_menu_button(chat_id=ann.user_id), MenuButtonCommands)
    assert (await ann.chat())["menu_button"]["type"] == "commands", "a chat's own button wins"
    assert (await bob.chat())["menu_button"]["type"] == "web_app"
    await sandbox.bot.set_chat_menu_button(chat_id=ann.user_id)  # no button: back to the default
    assert (await ann.chat())["menu_button"]["type"] == "web_app"

    refused = await sandbox.client.post(sandbox.raw("setChatMenuButton"), json={"menu_button": ["web_app"]})
    assert refused.status_code == 400
    assert refused.json()["description"] == "Bad Request: can't parse menu button: MenuButton must be an Object"
    no_url = await sandbox.client.post(sandbox.raw("setChatMenuButton"),
                                       json={"menu_button": {"type": "web_app", "text": "x", "web_app": {"url": "ftp://x"}}})
    assert no_url.status_code == 400
    await sandbox.bot.set_chat_menu_button(menu_button=MenuButtonDefault())
    assert (await bob.chat())["menu_button"]["type"] == "commands"
