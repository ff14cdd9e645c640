"""The sandbox chat page and the Mini App in headless Chromium, as a person uses them
together: the Mini App within reach at any time (the chat's menu button, the main menu);
what the person types answered at the bottom, where they look, and a flood leaving nothing
behind.

The real app and bot run in a thread of their own (as in test_sandbox_page.py); the person
types and taps in the page. Screenshots land in artifacts/chat-app-*.png.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, FrameLocator, Page, expect

from ppb.config import load_settings
from tests.bot_helpers import Running, bot_in_thread, free_port
from tests.browser import launch_chromium, screenshot

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
    context = browser.new_context(viewport={"width": 480, "height": 820}, locale="en-US")
    user_id = new_id()
    context.add_init_script(
        f"localStorage.setItem('ppb-sandbox-user', '{user_id}');"
        "localStorage.setItem('ppb-sandbox-name', 'Ann');"
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{running.harness.base}/sandbox/")
    yield page
    context.close()
    assert errors == [], f"the page threw: {errors}"


def user_of(page: Page) -> int:
    return int(page.locator("#user-id").input_value())


def send(page: Page, text: str) -> None:
    page.fill("#text", text)
    page.click("#composer button[type=submit]")


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
