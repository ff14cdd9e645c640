"""A person's journey across the sandbox chat and the Mini App in headless Chromium: one
training state, rated in both, finished in the Mini App, and the chat that follows.

The real app and bot run in a thread of their own (as in test_sandbox_page.py); the person
speaks through the sandbox's person API and clicks in the Mini App the chat's button opens.
Screenshots land in artifacts/journey-*.png.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from ppb.config import load_settings
from tests.bot_helpers import Person, Running, bot_in_thread, buttons
from tests.ports import free_port
from tests.browser import launch_chromium, screenshot, wait_until, watched_page

API_KEY = "journey-test-key"
CHANNELS = "@ppb_demo_tech,@ppb_demo_kino,@ppb_demo_kitchen"


@pytest.fixture(scope="module")
def running(sqlite_url: str) -> Iterator[Running]:
    settings = load_settings(
        DATABASE_URL=sqlite_url, PPB_API_KEY=API_KEY, PPB_HTTP_PORT=free_port(), PPB_DEMO_DATA=True,
        DEFAULT_CHANNELS=CHANNELS, POSTS_PER_CHANNEL=3, PPB_MAX_BONUS_CHANNELS=2,
    )
    with bot_in_thread(settings, API_KEY, "journey-server") as running:
        yield running


@pytest.fixture(scope="module")
def browser(running: Running) -> Iterator[Browser]:
    with launch_chromium() as chromium:
        yield chromium


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    with watched_page(browser) as page:
        yield page


def data(message: dict, label: str) -> str:
    for row in message["reply_markup"]["inline_keyboard"]:
        for button in row:
            if button["text"] == label:
                return button["callback_data"]
    raise AssertionError(f"no {label!r} button on {message['text']!r}")


def open_mini_app(page: Page, running: Running, person: Person) -> None:
    """Open the Mini App as the chat's 📱 button does: the sandbox signs initData for the person."""
    run, harness = running.run, running.harness
    run(person.find_button("📱 Train in the Mini App"))
    launch = run(harness.client.get(f"/sandbox/api/chats/{person.user_id}/webapp"))
    page.goto(harness.base + launch.json()["url"])
    expect(page.locator("#app")).to_have_attribute("data-state", "ready")


def top_card(page: Page) -> int:
    card = page.locator(".card[data-top]")
    expect(card).to_have_count(1)
    return int(card.get_attribute("data-post-id") or 0)


def progress(page: Page) -> str:
    return page.locator("[data-role=progress-label]").inner_text()


def training(running: Running, person: Person) -> dict:
    return running.run(running.harness.api("GET", f"/users/{person.user_id}/training?limit=50"))


def stored(running: Running, person: Person) -> dict[int, str]:
    rows = running.run(running.harness.api("GET", f"/posts/interactions/{person.user_id}"))["interactions"]
    return {row["post_id"]: row["interaction_type"] for row in rows}


def answers(running: Running, person: Person) -> list[str]:
    return [answer["text"] or "" for answer in running.harness.emulator.person_view(person.user_id)["answers"]]


def test_rate_in_both_finish_in_the_mini_app_and_come_back_to_the_chat(page: Page, running: Running, new_id) -> None:
    run = running.run
    person = running.harness.person(new_id(), "Ann")
    run(person.say("/start"))
    run(person.tap("Start training"))
    card = run(person.wait_text("Post 1 of 9 · "))
    assert "🏠 Menu" in buttons(card), "a menu is one tap away during training"
    deck = training(running, person)["posts"]
    assert len({post["channel_username"] for post in deck[:3]}) == 3, "the first cards come from three channels"

    run(person.press(card["message_id"], data(card, "👍")))
    card = run(person.wait_text("Post 2 of 9 · "))
    run(person.press(card["message_id"], data(card, "👎")))
    stale = run(person.wait_text("Post 3 of 9 · "))

    open_mini_app(page, running, person)
    expect(page.locator("[data-role=progress-label]")).to_have_text("2 / 9")
    assert top_card(page) == deck[2]["id"], "the Mini App goes on where the chat stopped"
    for kind in ("dislike", "like", "like"):
        page.click(f"[data-action={kind}]")
    expect(page.locator("[data-role=progress-label]")).to_have_text("5 / 9")
    wait_until(lambda: training(running, person)["done"] == 5, 15, "the Mini App's ratings in the one state")
    screenshot(page, "journey-mini-app")

    # Back in the chat, the card shown there is stale: pressing it changes nothing and says so.
    run(person.press(stale["message_id"], data(stale, "👍")))
    fresh = run(person.wait_text("Post 6 of 9 · "))
    assert "rated already" in fresh["text"]
    wait_until(lambda: "You rated this post already; nothing changed." in answers(running, person), 10,
               "the button's answer")
    assert stored(running, person)[deck[2]["id"]] == "dislike", "the earlier 👎 stays"
    assert fresh["text"].count(deck[5]["text"][:40]) == 1, "the card is the post that is next now"

    for _ in range(4):  # the rest in the Mini App: its last rating finishes the training
        page.click("[data-action=skip]")
    expect(page.locator("[data-role=empty-text]")).to_have_text("Training is done. Your feed is ready.")
    wait_until(lambda: run(running.harness.api("GET", f"/users/{person.user_id}"))["status"] == "trained", 20,
               "training to be complete")
    assert len(stored(running, person)) == 9

    run(person.press(fresh["message_id"], data(fresh, "👍")))  # the chat's card, stale again
    done = run(person.wait_text("Training complete! I learned from 9 ratings"))
    assert "📰 View my feed" in buttons(done)
    assert len(stored(running, person)) == 9, "the stale press rated nothing"
    run(person.say("/feed"))
    run(person.wait_text("posts for you"))
    assert run(running.harness.api("GET", f"/users/{person.user_id}"))["status"] == "active"


def test_finish_early_in_the_mini_app_and_the_chat_knows(page: Page, running: Running, new_id) -> None:
    run = running.run
    person = running.harness.person(new_id(), "Bob")
    run(person.say("/start"))
    run(person.tap("Start training"))
    card = run(person.wait_text("Post 1 of 9 · "))
    run(person.press(card["message_id"], data(card, "👍")))
    run(person.wait_text("Post 2 of 9 · "))

    open_mini_app(page, running, person)
    finish = page.locator("[data-role=finish]")
    for count in range(2, 6):
        expect(finish).to_be_hidden()
        page.click("[data-action=like]")
        expect(page.locator("[data-role=progress-label]")).to_have_text(f"{count} / 9")
    expect(finish).to_be_visible()
    finish.click()
    expect(page.locator("[data-role=empty-text]")).to_have_text("Training is done. Your feed is ready.")
    user = run(running.harness.api("GET", f"/users/{person.user_id}"))
    assert user["status"] == "trained" and len(stored(running, person)) == 5

    run(person.say("/start"))
    menu = run(person.wait_text("Main menu"))
    assert "📰 View my feed" in buttons(menu)
    run(person.say("/status"))
    run(person.wait_text("Status: ✅ trained, your feed is ready\nRatings: 5"))


def test_the_mini_app_in_a_plain_browser_points_to_the_sandbox_chat(page: Page, running: Running) -> None:
    page.goto(f"{running.harness.base}/miniapp/")
    link = page.locator("[data-role=sandbox-link]")
    expect(link).to_be_visible()
    expect(link).to_have_attribute("href", "/sandbox/")
    expect(page.locator("[data-role=error]")).to_contain_text("sandbox chat")
    link.click()
    expect(page.locator("#composer")).to_be_visible()
    expect(page.locator("#history-note")).to_contain_text("after PPB restarts this chat starts empty")
    assert httpx.get(f"{running.harness.base}/favicon.ico").status_code == 200


def test_the_toast_leaves_the_first_message_readable(page: Page, running: Running, new_id) -> None:
    user_id = new_id()
    page.set_viewport_size({"width": 1000, "height": 700})  # a desktop: the header is one line
    page.add_init_script(f"localStorage.setItem('ppb-sandbox-user', '{user_id}');")
    page.goto(f"{running.harness.base}/sandbox/")
    page.fill("#text", "/start")
    page.click("#composer button[type=submit]")
    menu = page.locator(".msg.bot", has_text="Hi, ")
    expect(menu).to_have_count(1, timeout=15_000)
    menu.locator(".keyboard button", has_text="🇷🇺 Русский").click()
    expect(page.locator("#toast")).to_be_visible(timeout=15_000)
    boxes = page.evaluate("""() => {
        const box = (el) => { const r = el.getBoundingClientRect(); return {top: r.top, bottom: r.bottom}; };
        return {toast: box(document.getElementById('toast')), first: box(document.querySelector('.msg.bot'))};
    }""")
    toast, first = boxes["toast"], boxes["first"]
    assert toast["top"] >= first["bottom"] or toast["bottom"] <= first["top"], f"the toast covers the message: {boxes}"
    screenshot(page, "journey-toast")
