"""The sandbox chat page and the Mini App in headless Chromium, as a person uses them
together: the Mini App within reach at any time (the chat's menu button, the main menu);
one feed state for both (a rating made in one shows in the other, a press on a post rated
elsewhere says so, the Mini App never repeats what the chat sent); what the person types
answered at the bottom, where they look, and a flood leaving nothing behind.

The real app and bot run in a thread of their own (as in test_sandbox_page.py); the person
types and taps in the page. Screenshots land in artifacts/chat-app-*.png.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, FrameLocator, Page, expect

from ppb.actors.outbox import Outbox, Pace
from ppb.bot.app import build_bot
from ppb.bot.i18n import build_i18n
from ppb.bot.keyboards.callbacks import FeedRate
from ppb.bot.outbox_sender import BotOutboxSender
from ppb.config import load_settings
from ppb.store.queries import Store
from tests.bot_helpers import Running, bot_in_thread
from tests.ports import free_port
from tests.browser import launch_chromium, sandbox_chat, sandbox_send, sandbox_user, screenshot, wait_until

API_KEY = "chat-app-key"


@pytest.fixture(scope="module")
def running(sqlite_url: str) -> Iterator[Running]:
    settings = load_settings(
        DATABASE_URL=sqlite_url, PPB_API_KEY=API_KEY, PPB_HTTP_PORT=free_port(), PPB_DEMO_DATA=True,
        DEFAULT_CHANNELS="@ppb_demo_tech", POSTS_PER_CHANNEL=3, PPB_BOT_COOLDOWN=4,
        PPB_BOT_BURST=6, PPB_BOT_UPDATES_PER_S=1,
    )
    with bot_in_thread(settings, API_KEY, "chat-app-server") as running:
        yield running


@pytest.fixture(scope="module")
def browser(running: Running) -> Iterator[Browser]:
    with launch_chromium() as chromium:
        yield chromium


@pytest.fixture
def page(browser: Browser, running: Running, new_id) -> Iterator[Page]:
    """The sandbox chat as a fresh person (their id and name set before the page's script runs)."""
    with sandbox_chat(browser, running.harness.base, new_id()) as page:
        yield page


user_of = sandbox_user
send = sandbox_send


def mini_app(page: Page) -> FrameLocator:
    return page.frame_locator("#webapp-frame")


def train_through_the_api(running: Running, user_id: int) -> None:
    """Rate the whole training set as the person would (the last rating completes it)."""
    api = running.harness.api
    state = running.run(api("POST", f"/users/{user_id}/training", {}))
    for post in running.run(api("GET", f"/users/{user_id}/training?limit=50"))["posts"]:
        running.run(api("POST", "/posts/interactions",
                        {"user_telegram_id": user_id, "post_id": post["id"], "interaction_type": "like"}))
    assert state["total"] > 0
    assert running.run(api("GET", f"/users/{user_id}"))["status"] == "trained"


def test_the_chat_menu_button_and_the_main_menu_open_the_mini_app(page: Page, running: Running) -> None:
    send(page, "/start")
    expect(page.locator(".msg.bot", has_text="Hi, Ann")).to_have_count(1)
    menu_button = page.locator("#menu-button")
    expect(menu_button).to_have_text("📱 PPB")  # set by the bot with setChatMenuButton
    screenshot(page, "chat-app-menu-button")
    menu_button.click()
    expect(page.locator("#webapp")).to_be_visible()
    expect(mini_app(page).locator("#app")).to_have_attribute("data-state", "ready")
    expect(mini_app(page).locator("[data-mode=training]")).to_have_attribute("aria-selected", "true")
    page.click("#webapp-close")

    # Trained: the main menu carries the Mini App too, opened on the feed.
    train_through_the_api(running, user_of(page))
    send(page, "/menu")
    menu = page.locator(".msg.bot", has_text="Main menu")
    expect(menu).to_have_count(1)
    menu.locator(".keyboard button", has_text="📱 Open the Mini App").click()
    expect(mini_app(page).locator("#app")).to_have_attribute("data-state", "ready")
    expect(mini_app(page).locator("[data-mode=feed]")).to_have_attribute("aria-selected", "true")
    screenshot(page, "chat-app-main-menu-mini-app")
    page.click("#webapp-close")

    # The menu button, with no mode in its address, opens a trained person's feed as well.
    menu_button.click()
    expect(mini_app(page).locator("[data-mode=feed]")).to_have_attribute("aria-selected", "true")
    expect(mini_app(page).locator("#app")).to_have_attribute("data-state", "ready")


def last_bot_message(page: Page):
    return page.locator("#messages .msg.bot").last


def test_a_typed_command_is_answered_at_the_bottom_and_a_press_edits_in_place(page: Page, running: Running) -> None:
    user_id = user_of(page)
    send(page, "/start")
    expect(page.locator(".msg.bot", has_text="Hi, Ann")).to_have_count(1)
    train_through_the_api(running, user_id)
    send(page, "/menu")
    menu = page.locator(".msg.bot", has_text="Main menu")
    expect(menu).to_have_count(1)
    menu_id = menu.get_attribute("data-message-id")
    for number in range(1, 7):  # posts arrive below the menu (pushes, a feed page)
        running.run(running.harness.bot_app.messages.send_onetime(user_id, f"A new post number {number}"))
    expect(page.locator(".msg.bot", has_text="A new post number")).to_have_count(6)

    send(page, "/settings")
    answer = last_bot_message(page)
    expect(answer).to_contain_text("⚙️ Settings")
    expect(answer).to_be_in_viewport()
    expect(page.locator(f'.msg[data-message-id="{menu_id}"]')).to_have_count(0)  # the old menu is gone
    expect(page.locator(".msg.bot", has_text="Main menu")).to_have_count(0)
    expect(page.locator(".msg.me")).to_have_count(0)  # what was typed is removed once answered
    screenshot(page, "chat-app-typed-at-the-bottom")

    settings_id = answer.get_attribute("data-message-id")
    answer.locator(".keyboard button", has_text="🏠 Menu").click()  # a press edits where it was pressed
    expect(page.locator(f'.msg[data-message-id="{settings_id}"]')).to_contain_text("Main menu")
    expect(page.locator(".msg.bot .text", has_text="📬 Delivery")).to_have_count(0)


def test_a_flood_is_told_once_and_leaves_nothing_behind(page: Page, running: Running) -> None:
    send(page, "/start")
    expect(page.locator(".msg.bot", has_text="Hi, Ann")).to_have_count(1)
    page.evaluate("""() => {  // Enter held down: faster than PPB_BOT_UPDATES_PER_S, beyond PPB_BOT_BURST
      for (let number = 0; number < 30; number += 1) {
        document.getElementById("text").value = "hello " + number;
        document.getElementById("composer").requestSubmit();
      }
    }""")
    notice = page.locator(".msg.bot", has_text="too fast")
    expect(notice).to_have_count(1)
    screenshot(page, "chat-app-flood-notice")
    # The cool-down (4 s here) ends: the notice and what was typed meanwhile are removed.
    expect(notice).to_have_count(0)
    expect(page.locator(".msg.me")).to_have_count(0)
    expect(page.locator(".msg.bot", has_text="Hi, Ann")).to_have_count(1)
    # The messages that passed were answered in order, each answer clearing the one before.
    expect(page.locator(".msg.bot", has_text="I didn't get that")).to_have_count(1)
    screenshot(page, "chat-app-after-the-flood")


@contextlib.contextmanager
def outbox_running(running: Running) -> Iterator[None]:
    """The outbox (as the `outbox` actor runs it) in the server's loop, over the bot's own
    chat registry: it sends what is queued, marks included, until the block ends."""
    harness = running.harness

    async def start() -> tuple[Store, Any, Outbox, asyncio.Task[None]]:
        store = Store(harness.settings.async_database_url)
        await store.connect()
        bot = build_bot(harness.settings, harness.base, wait_out_floods=False)
        sender = BotOutboxSender(bot, harness.bot_app.messages.registry, build_i18n(), store)
        outbox = Outbox(store, sender, Pace(idle_s=0.05))
        return store, bot, outbox, asyncio.create_task(outbox.run())

    async def stop(store: Store, bot: Any, outbox: Outbox, task: asyncio.Task[None]) -> None:
        outbox.close()
        await task
        await outbox.sent_all()
        await bot.session.close()
        await store.disconnect()

    parts = running.run(start())
    try:
        yield
    finally:
        running.run(stop(*parts))


def feed_posts(running: Running, user_id: int) -> dict[int, dict]:
    """The chat's feed posts by post id, as the emulator holds them."""
    found = {}
    for message in running.harness.emulator.person_view(user_id)["messages"]:
        for row in (message["reply_markup"] or {}).get("inline_keyboard", []):
            for button in row:
                if str(button.get("callback_data", "")).startswith("f:"):
                    found[FeedRate.unpack(button["callback_data"]).post_id] = message
    return found


def stored_rating(running: Running, user_id: int, post_id: int) -> str | None:
    rows = running.run(running.harness.api("GET", f"/posts/interactions/{user_id}"))["interactions"]
    return next((row["interaction_type"] for row in rows if row["post_id"] == post_id), None)


def top_card(page: Page) -> int:
    card = mini_app(page).locator(".card[data-top]")
    expect(card).to_have_count(1)
    return int(card.get_attribute("data-post-id") or 0)


def chat_message(page: Page, message: dict):
    return page.locator(f'.msg[data-message-id="{message["message_id"]}"]')


def test_one_feed_state_for_the_chat_and_the_mini_app(page: Page, running: Running) -> None:
    run, user_id = running.run, user_of(page)
    person = running.harness.person(user_id)
    send(page, "/start")
    expect(page.locator(".msg.bot", has_text="Hi, Ann")).to_have_count(1)
    train_through_the_api(running, user_id)

    # The Mini App's feed deck is dealt; the chat then sends its feed page, the same posts.
    page.click("#menu-button")
    first = top_card(page)
    second = int(mini_app(page).locator(".card").nth(1).get_attribute("data-post-id") or 0)
    run(person.say("/feed"))
    run(person.wait_text("posts for you"))
    in_chat = feed_posts(running, user_id)
    assert {first, second} <= set(in_chat), "the deck was dealt before the chat sent its page"

    # 👎 in the Mini App: the chat's copy of the post shows it.
    with outbox_running(running):
        mini_app(page).locator("[data-action=dislike]").click()
        wait_until(lambda: stored_rating(running, user_id, first) == "dislike", 15, "the Mini App's 👎 stored")
        wait_until(lambda: "👎 ✓" in str(feed_posts(running, user_id)[first]["reply_markup"]), 20,
                   "the chat's message to show the Mini App's 👎")
    # 👍 in the Mini App while nothing edits the chat (the outbox away): the chat is behind.
    mini_app(page).locator("[data-action=like]").click()
    wait_until(lambda: stored_rating(running, user_id, second) == "like", 15, "the Mini App's 👍 stored")
    page.click("#webapp-close")
    marked = chat_message(page, in_chat[first])
    expect(marked.locator(".keyboard button", has_text="👎 ✓")).to_have_count(1)
    screenshot(page, "chat-app-mark-from-the-mini-app")

    # A press in the chat on the post rated elsewhere is honest: nothing changes, and it says so.
    behind = chat_message(page, in_chat[second])
    behind.locator(".keyboard button", has_text="👎").click()
    expect(page.locator("#toast")).to_contain_text("You rated this post 👍 already, maybe in the Mini App; nothing changed.")
    expect(behind.locator(".keyboard button", has_text="👍 ✓")).to_have_count(1)
    assert stored_rating(running, user_id, second) == "like"
    screenshot(page, "chat-app-honest-press")
    behind.locator(".keyboard button", has_text="👎").click()  # now knowingly: it changes
    expect(behind.locator(".keyboard button", has_text="👎 ✓")).to_have_count(1)
    wait_until(lambda: stored_rating(running, user_id, second) == "dislike", 15, "the second press to change it")

    # The Mini App's feed never begins with what the chat already sent.
    page.click("#menu-button")
    fresh = top_card(page)
    assert fresh not in feed_posts(running, user_id), "the deck repeats a post the chat sent"
    screenshot(page, "chat-app-deck-without-chat-posts")

    # A post rated in the chat meanwhile: the Mini App keeps that rating and says so.
    run(person.say("/feed"))
    wait_until(lambda: fresh in feed_posts(running, user_id), 20, "the chat to send the deck's top post")
    message = feed_posts(running, user_id)[fresh]
    run(person.press(message["message_id"], FeedRate(post_id=fresh, kind="like").pack()))
    wait_until(lambda: stored_rating(running, user_id, fresh) == "like", 15, "the chat's 👍 stored")
    mini_app(page).locator("[data-action=dislike]").click()
    note = mini_app(page).locator("[data-role=note]")
    expect(note).to_have_text("You had rated this post 👍 in the chat already: that rating stays.")
    assert stored_rating(running, user_id, fresh) == "like"
    screenshot(page, "chat-app-mini-app-keeps-the-chat-rating")
