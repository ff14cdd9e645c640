"""The Mini App in headless Chromium against the real app over real HTTP (SQLite in tmp).

Screenshots land in artifacts/miniapp-*.png.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from ppb.compose.web import http_app as build_app
from ppb.config import load_settings
from ppb.http.miniapp_auth import sign_init_data
from ppb.store.migrate import upgrade
from tests.browser import launch_chromium, screenshot, serve_in_thread, swipe, wait_until, watched_page
from tests.ports import free_port

BOT_TOKEN = "123456789:AAE-browser-test-token-for-ppb-miniapp"
API_KEY = "browser-test-key"
CHANNEL = {"telegram_id": -1001234500001, "username": "ppbminitest", "title": "<i>Mini</i> & Co"}
MARKUP = '<img src=x onerror="window.__xss=1"><b>bold?</b> & <script>window.__xss=2</script>'
TEXTS = [MARKUP, "Rust 2.0 released", "Cats sleep 16 hours a day", "Elections: results", "New phone review", "Recipe: borscht"]
_users = itertools.count(7_000_000_001)


@dataclass(frozen=True)
class Server:
    url: str
    database: Path
    post_ids: list[int]  # newest first, as the deck shows them


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    database = tmp_path_factory.mktemp("miniapp") / "ppb.db"
    settings = load_settings(
        DATABASE_URL=f"sqlite:///{database}", PPB_API_KEY=API_KEY, BOT_TOKEN=BOT_TOKEN,
        PPB_DEMO_DATA=False, DEFAULT_CHANNELS=f"@{CHANNEL['username']}", MINIAPP_AUTH_MAX_AGE=3600,
    )
    with ThreadPoolExecutor(1) as pool:  # its own event loop, whatever Playwright runs here
        pool.submit(upgrade, settings.async_database_url).result()
    with serve_in_thread(build_app(settings), free_port()) as url:
        with httpx.Client(base_url=url, headers={"X-API-Key": API_KEY}) as client:
            assert client.post("/api/v1/channels/", json=CHANNEL).status_code == 201
            posts = [
                {"telegram_message_id": 50 - index, "text": text, "media_type": "photo" if index == 1 else "text",
                 "posted_at": f"2024-03-{20 - index:02d}T09:00:00Z"}
                for index, text in enumerate(TEXTS)
            ]
            bulk = client.post("/api/v1/posts/bulk", json={"channel_telegram_id": CHANNEL["telegram_id"], "posts": posts})
            assert bulk.status_code == 200, bulk.text
        yield Server(url, database, bulk.json()["post_ids"])


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch_chromium() as chromium:
        yield chromium


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    with watched_page(browser) as page:
        yield page


def open_app(page: Page, server: Server, *, language: str = "en", token: str = BOT_TOKEN,
             auth_date: int | None = None, user_id: int | None = None) -> int:
    """Open the Mini App as Telegram would, with signed initData in the fragment."""
    user_id = next(_users) if user_id is None else user_id
    user = {"id": user_id, "first_name": "Ann", "username": f"ann{user_id}", "language_code": language}
    init_data = sign_init_data(token, user, auth_date=auth_date, query_id="AAH-test")
    page.goto(f"{server.url}/miniapp/#tgWebAppData={quote(init_data, safe='')}&tgWebAppVersion=7.0&tgWebAppPlatform=unknown")
    return user_id


def ratings(server: Server, telegram_id: int) -> dict[int, list[str]]:
    """post id -> every stored rating of that user for it, read from the database itself."""
    with sqlite3.connect(server.database) as connection:
        rows = connection.execute(
            "SELECT i.post_id, i.interaction_type FROM interactions i JOIN users u ON u.id = i.user_id "
            "WHERE u.telegram_id = ?", (telegram_id,),
        ).fetchall()
    found: dict[int, list[str]] = {}
    for post_id, kind in rows:
        found.setdefault(post_id, []).append(kind)
    return found


def top_card_id(page: Page) -> int:
    card = page.locator(".card[data-top]")
    expect(card).to_have_count(1)
    return int(card.get_attribute("data-post-id") or 0)


def test_rate_by_swipe_and_by_button(page: Page, server: Server) -> None:
    user = open_app(page, server)
    expect(page.locator("#app")).to_have_attribute("data-state", "ready")
    expect(page.locator("[data-role=progress-label]")).to_have_text("0 / 6")
    first = top_card_id(page)
    assert first == server.post_ids[0]
    swipe(page, page.locator(".card[data-top]"), 260)
    second = top_card_id(page)
    assert second == server.post_ids[1] and second != first
    swipe(page, page.locator(".card[data-top]"), -260)
    third = top_card_id(page)
    page.click("[data-action=like]")
    fourth = top_card_id(page)
    page.click("[data-action=dislike]")
    fifth = top_card_id(page)
    page.click("[data-action=skip]")
    expect(page.locator("[data-role=progress-label]")).to_have_text("5 / 6")
    expected = {first: ["like"], second: ["dislike"], third: ["like"], fourth: ["dislike"], fifth: ["skip"]}
    wait_until(lambda: ratings(server, user) == expected, 10, "the five ratings in the database")

    swipe(page, page.locator(".card[data-top]"), 40)  # a short drag is not a rating: the card comes back
    expect(page.locator(".card[data-top]")).to_have_attribute("data-post-id", str(server.post_ids[5]))
    screenshot(page, "miniapp-deck")
    page.click("[data-action=like]")
    expect(page.locator("#app")).to_have_attribute("data-state", "empty")
    expect(page.locator("[data-role=empty-text]")).to_have_text("Training is done. Your feed is ready.")
    wait_until(lambda: len(ratings(server, user)) == 6, 10, "the sixth rating")


def test_card_shows_channel_media_badge_and_link(page: Page, server: Server) -> None:
    open_app(page, server)
    expect(page.locator("#app")).to_have_attribute("data-state", "ready")
    page.click("[data-action=skip]")  # the second post is the photo
    card = page.locator(".card[data-top]")
    expect(card.locator(".badge")).to_have_text("Photo")
    expect(card.locator(".channel")).to_have_text(CHANNEL["title"])
    expect(card.locator("a.link")).to_have_attribute("href", f"https://t.me/{CHANNEL['username']}/49")


def test_markup_in_posts_and_titles_is_shown_as_text(page: Page, server: Server) -> None:
    open_app(page, server)
    card = page.locator(".card[data-top]")
    expect(card.locator(".text")).to_have_text(MARKUP)
    expect(card.locator(".channel")).to_have_text("<i>Mini</i> & Co")
    assert page.locator(".deck img, .deck b, .deck i, .deck script").count() == 0
    assert page.evaluate("window.__xss") is None
    screenshot(page, "miniapp-markup-as-text")


HOSTILE = (
    '<b>bold</b> <i>it</i> <a href="javascript:window.__xss=3">js</a> <a href="https://example.org/x">ok</a> '
    '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script><tg-spoiler>hidden</tg-spoiler>'
    '<pre><code class="language-python">x&lt;1</code></pre><blockquote expandable>q</blockquote>'
    '<b onclick="window.__xss=4">click</b><iframe src="javascript:window.__xss=5"></iframe>'
)


def test_a_posts_formatting_shows_and_markup_not_ours_is_only_text(page: Page, server: Server) -> None:
    """What the API renders is shown formatted; markup PPB's renderer never writes (put into
    the store by hand here) shows as its text: no element, attribute or link it asks for."""
    top = server.post_ids[0]
    with sqlite3.connect(server.database) as connection:
        connection.execute("UPDATE posts SET html = ? WHERE id = ?", (HOSTILE, top))
    try:
        open_app(page, server)
        text = page.locator(".card[data-top] .text")
        expect(text).to_have_text("bold it js ok hiddenx<1qclick")
        assert [text.locator("b").nth(i).inner_text() for i in range(2)] == ["bold", "click"]
        assert text.locator("b[onclick], img, script, iframe").count() == 0
        links = text.locator("a")
        assert links.count() == 2 and links.nth(0).get_attribute("href") is None
        assert links.nth(1).get_attribute("href") == "https://example.org/x"
        assert text.locator("pre code.language-python").inner_text() == "x<1"
        assert text.locator("blockquote.expandable").inner_text() == "q"
        spoiler = text.locator("span.spoiler")
        spoiler.click()
        expect(spoiler).to_have_class("spoiler shown")
        assert page.evaluate("window.__xss") is None
        screenshot(page, "miniapp-formatting")
    finally:
        with sqlite3.connect(server.database) as connection:
            connection.execute("UPDATE posts SET html = NULL WHERE id = ?", (top,))


@pytest.mark.parametrize(
    ("make", "state"),
    [
        (lambda page, server: open_app(page, server, token="987654321:" + "f" * 35), "forged"),
        (lambda page, server: open_app(page, server, auth_date=int(time.time()) - 7200), "expired"),
    ],
    ids=["forged", "expired"],
)
def test_bad_initdata_is_refused_and_the_app_says_so(page: Page, server: Server, make, state: str) -> None:
    with page.expect_response(lambda response: response.url.endswith("/api/v1/miniapp/me")) as answer:
        user = make(page, server)
    assert answer.value.status == 401
    assert answer.value.json()["status_code"] == 401
    expect(page.locator("#app")).to_have_attribute("data-state", "auth-error")
    expect(page.locator("[data-role=error]")).to_contain_text("could not confirm who you are")
    expect(page.locator("[data-action=like]")).to_be_disabled()
    assert page.locator(".card").count() == 0
    screenshot(page, f"miniapp-{state}-initdata")
    with sqlite3.connect(server.database) as connection:
        assert connection.execute("SELECT count(*) FROM users WHERE telegram_id = ?", (user,)).fetchone() == (0,)


def test_without_launch_parameters_it_asks_to_open_from_the_bot(page: Page, server: Server) -> None:
    page.goto(f"{server.url}/miniapp/")
    expect(page.locator("#app")).to_have_attribute("data-state", "no-launch")
    expect(page.locator("[data-role=error]")).to_contain_text("Open this app from the PPB bot")


def test_offline_ratings_queue_and_are_stored_exactly_once(page: Page, server: Server) -> None:
    sent: list[int] = []
    page.on("response", lambda response: sent.append(json.loads(response.request.post_data or "{}")["post_id"])
            if response.url.endswith("/miniapp/interactions") and response.status == 200 else None)
    user = open_app(page, server)
    expect(page.locator("#app")).to_have_attribute("data-state", "ready")
    page.route("**/api/v1/miniapp/**", lambda route: route.abort("internetdisconnected"))

    first = top_card_id(page)
    page.click("[data-action=like]")
    expect(page.locator("[data-role=offline]")).to_be_visible()
    second = top_card_id(page)  # loaded cards stay usable
    swipe(page, page.locator(".card[data-top]"), -260)
    expect(page.locator("[data-role=offline]")).to_contain_text("2 waiting")
    assert ratings(server, user) == {}
    queued = page.evaluate(f"JSON.parse(localStorage.getItem('ppb:queue:{user}'))")
    assert [(item["post_id"], item["interaction_type"]) for item in queued] == [(first, "like"), (second, "dislike")]
    screenshot(page, "miniapp-offline")

    page.reload()  # closed and opened again while still offline: the deck comes from this device
    expect(page.locator("[data-role=offline]")).to_be_visible()
    assert top_card_id(page) not in (first, second)

    page.unroute("**/api/v1/miniapp/**")
    wait_until(lambda: ratings(server, user) == {first: ["like"], second: ["dislike"]}, 20, "the queued ratings stored")
    expect(page.locator("[data-role=offline]")).to_be_hidden()
    # The server stores a rating before its answer reaches the page, which then forgets it.
    wait_until(lambda: page.evaluate(f"localStorage.getItem('ppb:queue:{user}')") == "[]", 10, "the queue emptied")
    assert sorted(sent) == sorted([first, second])  # each delivered once, none re-sent after success


def test_a_server_error_keeps_the_rating_until_it_is_stored(page: Page, server: Server) -> None:
    user = open_app(page, server)
    expect(page.locator("#app")).to_have_attribute("data-state", "ready")
    body = json.dumps({"detail": "the database is unavailable; try again shortly", "status_code": 503})
    page.route("**/miniapp/interactions", lambda route: route.fulfill(status=503, body=body, content_type="application/json"))
    post = top_card_id(page)
    page.click("[data-action=like]")
    expect(page.locator("[data-role=offline]")).to_contain_text("1 waiting")
    page.unroute("**/miniapp/interactions")
    wait_until(lambda: ratings(server, user) == {post: ["like"]}, 20, "the rating stored after the 503s")
    expect(page.locator("[data-role=offline]")).to_be_hidden()


@pytest.mark.parametrize(
    ("language", "like", "progress_word"),
    [("en", "Like", "Training"), ("ru", "Нравится", "Обучение"), ("uk", "Нравится", "Обучение")],
    ids=["english", "russian", "ukrainian-reads-russian"],
)
def test_speaks_the_users_language(page: Page, server: Server, language: str, like: str, progress_word: str) -> None:
    user = open_app(page, server, language=language)
    expect(page.locator("#app")).to_have_attribute("data-state", "ready")
    expect(page.locator("html")).to_have_attribute("lang", "en" if language == "en" else "ru")
    expect(page.locator("[data-action=like]")).to_contain_text(like)
    expect(page.locator("[data-mode=training]")).to_have_text(progress_word)
    page.click("[data-action=skip]")
    expect(page.locator(".card[data-top] .badge")).to_have_text("Photo" if language == "en" else "Фото")
    screenshot(page, f"miniapp-{language}")
    if language == "uk":  # the stored language decides from then on, by the same rule
        wait_until(lambda: _stored_language(server, user) == "uk", 10, "the reader's language stored")


FAKE_TELEGRAM = """
window.__calls = [];
const record = (name) => (...args) => window.__calls.push([name, ...args]);
const button = (prefix) => ({ setText: record(prefix + ".setText"), show: record(prefix + ".show"),
  hide: record(prefix + ".hide"), onClick: record(prefix + ".onClick"), offClick: record(prefix + ".offClick") });
window.Telegram = { WebApp: {
  initData: %s, platform: "tdesktop",
  themeParams: { bg_color: "#112233", text_color: "#eeeeee", button_color: "#ff8800", button_text_color: "#000000" },
  ready: record("ready"), expand: record("expand"), onEvent: record("onEvent"),
  openTelegramLink: record("openTelegramLink"),
  MainButton: button("MainButton"), BackButton: button("BackButton"),
  HapticFeedback: { impactOccurred: record("impact"), selectionChanged: record("selection"), notificationOccurred: record("notification") },
} };
"""


def test_inside_telegram_it_uses_the_webapp_object(browser: Browser, server: Server) -> None:
    user = {"id": next(_users), "first_name": "Tg", "language_code": "en"}
    init_data = sign_init_data(BOT_TOKEN, user)
    context = browser.new_context(viewport={"width": 420, "height": 760})
    try:
        context.add_init_script(FAKE_TELEGRAM % json.dumps(init_data))
        context.route("https://telegram.org/**", lambda route: route.abort())  # never fetched anyway
        page = context.new_page()
        page.goto(f"{server.url}/miniapp/")  # no fragment: initData comes from Telegram's object
        expect(page.locator("#app")).to_have_attribute("data-state", "ready")
        assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(17, 34, 51)"
        page.click("[data-action=like]")
        page.click("[data-action=skip]")
        calls = [call[0] for call in page.evaluate("window.__calls")]
        assert {"ready", "expand", "impact", "selection"} <= set(calls)
        page.click("[data-mode=feed]")
        expect(page.locator("[data-mode=feed]")).to_have_attribute("aria-selected", "true")
        wait_until(lambda: "BackButton.show" in [c[0] for c in page.evaluate("window.__calls")], 5, "the BackButton shown")
        page.locator(".card[data-top] a.link").click()
        opened = [call for call in page.evaluate("window.__calls") if call[0] == "openTelegramLink"]
        assert opened and opened[0][1].startswith(f"https://t.me/{CHANNEL['username']}/")
        wait_until(lambda: len(ratings(server, user["id"])) == 2, 10, "both ratings stored")
        screenshot(page, "miniapp-in-telegram")
    finally:
        context.close()


def test_a_channel_whose_verdict_is_clear_leaves_the_deck_and_the_app_says_why(page: Page, server: Server) -> None:
    """Four 👍 in a row settle the one channel: its two other cards, dealt already, are not
    rated, the total follows the server (4 / 4, never 5 / 5), and the app says why."""
    user = open_app(page, server, language="ru")
    expect(page.locator("#app")).to_have_attribute("data-state", "ready")
    expect(page.locator("[data-role=progress-label]")).to_have_text("0 / 6")
    expect(page.locator("[data-role=skipped]")).to_be_hidden()
    for _ in range(4):
        top_card_id(page)
        page.click("[data-action=like]")
    expect(page.locator("#app")).to_have_attribute("data-state", "empty")
    expect(page.locator("[data-role=progress-label]")).to_have_text("4 / 4")
    expect(page.locator("[data-role=skipped]")).to_have_text(
        "Пропускаю 2 поста из <i>Mini</i> & Co: твоё мнение там уже понятно.")
    expect(page.locator("[data-role=empty-text]")).to_have_text("Обучение завершено. Твоя лента готова.")
    screenshot(page, "miniapp-settled-ru")
    wait_until(lambda: len(ratings(server, user)) == 4, 10, "the four ratings, and no more")
    assert sorted(ratings(server, user)) == sorted(server.post_ids[:4])


def _stored_language(server: Server, telegram_id: int) -> str | None:
    with sqlite3.connect(server.database) as connection:
        row = connection.execute("SELECT language FROM users WHERE telegram_id = ?", (telegram_id,)).fetchone()
    return row[0] if row else None


def test_a_feed_card_tells_why_it_is_there(page: Page, server: Server) -> None:
    user_id = next(_users)
    with httpx.Client(base_url=server.url, headers={"X-API-Key": API_KEY}) as client:
        client.post("/api/v1/users/", json={"telegram_id": user_id}).raise_for_status()
        client.post(f"/api/v1/users/{user_id}/channels", json={"channel": CHANNEL["username"]}).raise_for_status()
        for post_id, kind in ((server.post_ids[1], "like"), (server.post_ids[3], "dislike")):
            client.post("/api/v1/posts/interactions",
                        json={"user_telegram_id": user_id, "post_id": post_id, "interaction_type": kind}).raise_for_status()
    user = {"id": user_id, "first_name": "Ann", "username": f"ann{user_id}", "language_code": "en"}
    init_data = sign_init_data(BOT_TOKEN, user, query_id="AAH-test")
    page.goto(f"{server.url}/miniapp/?mode=feed#tgWebAppData={quote(init_data, safe='')}&tgWebAppVersion=7.0&tgWebAppPlatform=unknown")
    expect(page.locator("#app")).to_have_attribute("data-state", "ready")
    card = page.locator(".card[data-top]")
    card.locator(".why-button").click()
    expect(card.locator(".why")).to_contain_text("Why this post:")
    expect(card).to_have_attribute("data-top", "true")  # a tap, not a swipe: the card stays
    screenshot(page, "miniapp-why")
