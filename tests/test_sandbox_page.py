"""The sandbox's web chat page in headless Chromium: the real app over real HTTP, the real
bot polling it, a person typing and pressing buttons in the page.

Playwright's sync API keeps an event loop in this thread, so the server and the bot run in
a thread of their own (its own loop). Screenshots land in artifacts/sandbox-page-*.png.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from ppb.config import load_settings
from tests.bot_helpers import Running, bot_in_thread
from tests.ports import free_port
from tests.browser import launch_chromium, sandbox_chat, sandbox_send, sandbox_user, screenshot, wait_until

API_KEY = "sandbox-page-key"
MARKUP = "<b>x</b> & <i>y</i>"


@pytest.fixture(scope="module")
def running(sqlite_url: str) -> Iterator[Running]:
    settings = load_settings(
        DATABASE_URL=sqlite_url, PPB_API_KEY=API_KEY, PPB_HTTP_PORT=free_port(), PPB_DEMO_DATA=True,
        DEFAULT_CHANNELS="@ppb_demo_tech", POSTS_PER_CHANNEL=3, PPB_MAX_BONUS_CHANNELS=1,
    )
    with bot_in_thread(settings, API_KEY, "sandbox-page-server") as running:
        yield running


@pytest.fixture(scope="module")
def browser(running: Running) -> Iterator[Browser]:
    """After the server: its setup runs event loops of its own, Playwright keeps one here."""
    with launch_chromium() as chromium:
        yield chromium


@pytest.fixture
def page(browser: Browser, running: Running, new_id) -> Iterator[Page]:
    """The page as a fresh person (their id and name set before the page's script runs)."""
    with sandbox_chat(browser, running.harness.base, new_id()) as page:
        yield page


user_of = sandbox_user
send = sandbox_send


def test_start_in_the_page_shows_the_menu_and_its_buttons_reach_the_bot(page: Page, running: Running) -> None:
    expect(page.locator("#bot-name")).to_have_text("@" + running.harness.emulator.bot_user()["username"])
    user_id = user_of(page)
    send(page, "/start")
    menu = page.locator(".msg.bot", has_text="Hi, Ann")
    expect(menu).to_have_count(1, timeout=15_000)
    labels = menu.locator(".keyboard button")
    for label in ("🚀 Start training", "ℹ️ How it works", "🇬🇧 English", "🇷🇺 Русский"):
        expect(labels.filter(has_text=label)).to_have_count(1)
    screenshot(page, "sandbox-page-menu")

    menu.locator(".keyboard button", has_text="How it works").click()
    expect(page.locator(".msg.bot", has_text="How it works")).to_have_count(1, timeout=15_000)
    expect(page.locator(".msg.bot .keyboard button", has_text="Menu")).to_be_visible()
    emulator = running.harness.emulator
    wait_until(lambda: bool(emulator.person_view(user_id)["answers"]), 10, "the bot to answer the callback query")

    def page_matches_the_chat() -> bool:  # the chat as the emulator holds it, /start deleted
        held = [m["message_id"] for m in emulator.person_view(user_id)["messages"]]
        shown = page.locator("#messages .msg").evaluate_all("els => els.map(e => Number(e.dataset.messageId))")
        return shown == held

    wait_until(page_matches_the_chat, 10, "the page to show the chat as the emulator holds it")
    expect(page.locator(".msg.me")).to_have_count(0)
    screenshot(page, "sandbox-page-how-it-works")


def test_markup_in_messages_is_shown_as_text(page: Page, running: Running) -> None:
    user_id = user_of(page)
    send(page, "/start")  # a bot cannot write first
    expect(page.locator(".msg.bot", has_text="Hi, Ann")).to_have_count(1, timeout=15_000)
    bot = running.harness.bot_app.bot
    running.run(bot.send_message(user_id, MARKUP, parse_mode=None))
    # In HTML mode the entities become formatting of the text: the tags are not shown.
    running.run(bot.send_message(user_id, "<b>bold</b> &lt;i&gt;escaped&lt;/i&gt;"))
    expect(page.locator(".msg.bot .text", has_text="<b>x</b>")).to_have_text(MARKUP, timeout=15_000)
    expect(page.locator(".msg.bot .text", has_text="bold")).to_have_text("bold <i>escaped</i>")
    assert page.locator("#messages b, #messages i").count() == 0, "markup became elements"
    # What Telegram made of the HTML (its entities) is drawn around text nodes, as a client does.
    expect(page.locator(".msg.bot .text strong[data-entity=bold]")).to_have_text("bold")
    running.run(bot.send_message(user_id, '🚀 <a href="https://example.org/?a=1&amp;b=2">link</a> '
                                          '<a href="tg://resolve?domain=x">tg</a> <tg-spoiler>s</tg-spoiler>'))
    link = page.locator('.msg.bot .text a[data-entity=text_link]', has_text="link")
    expect(link).to_have_attribute("href", "https://example.org/?a=1&b=2")
    assert page.locator('.msg.bot .text a[data-entity=text_link]', has_text="tg").get_attribute("href") is None
    expect(page.locator(".msg.bot .text", has_text="🚀 link")).to_have_text("🚀 link tg s")
    screenshot(page, "sandbox-page-markup")


def test_a_document_the_bot_sends_is_shown_and_opens(page: Page, running: Running) -> None:
    """/export in the web chat: the file shows with its name and size, and a tap saves it."""
    send(page, "/start")
    expect(page.locator(".msg.bot", has_text="Hi, Ann")).to_have_count(1, timeout=15_000)
    send(page, "/export")
    card = page.locator(".msg.bot", has_text="Your data").locator("a.document")
    expect(card).to_have_count(1, timeout=15_000)
    expect(card.locator(".name")).to_have_text("ppb-my-data.json")
    expect(card.locator(".size")).to_contain_text("B")
    screenshot(page, "sandbox-page-document")
    with page.expect_download() as saving:
        card.click()
    saved = saving.value
    assert saved.suggested_filename == "ppb-my-data.json"
    document = json.loads(Path(saved.path()).read_text())
    assert document["format"] == "ppb-export/1" and document["user"]["telegram_id"] == user_of(page)
