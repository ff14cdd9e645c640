"""The sandbox chat page and the Mini App in headless Chromium, as a person uses them
together: the Mini App within reach at any time (the chat's menu button, the main menu).

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
        DEFAULT_CHANNELS="@ppb_demo_tech", POSTS_PER_CHANNEL=3,
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
