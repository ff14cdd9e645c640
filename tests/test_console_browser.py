"""The operators' console in headless Chromium against the real app over real HTTP
(SQLite in tmp): nothing without signing in, charts and tables after, markup shown as
text, actions logged, CSRF enforced. Screenshots land in artifacts/console-*.png.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from ppb.compose.web import http_app as build_app
from ppb.config import load_settings
from ppb.store.migrate import upgrade
from tests.browser import launch_chromium, screenshot, serve_in_thread, watched_page
from tests.ports import free_port
from tests.test_admin_api import DISTINCT

API_KEY = "console-browser-test-key"
MARKUP = '<img src=x onerror="window.__xss=1"><b>Mallory</b>'
CHANNEL = {"telegram_id": -1001234500077, "username": "ppbconsoletest", "title": '<script>window.__xss=2</script>News & "Co"'}
OTHER_CHANNEL = {"telegram_id": -1001234500078, "username": "ppbconsoleother", "title": "Other news"}
_ids = itertools.count(8_000_000_001)


@dataclass(frozen=True)
class Server:
    url: str
    people: list[int]
    mallory: int


def _seed(client: httpx.Client) -> tuple[list[int], int]:
    """A channel, trained people in a running experiment who rated feed posts (asking why
    about the first of theirs), and one with markup for a name."""
    assert client.post("/api/v1/channels/", json=CHANNEL).status_code == 201
    assert client.post("/api/v1/channels/", json=OTHER_CHANNEL).status_code == 201
    posts = [{"telegram_message_id": 10 + i, "text": text, "media_type": "text", "posted_at": f"2024-03-{i + 1:02d}T09:00:00Z"}
             for i, text in enumerate(DISTINCT)]
    ids = client.post("/api/v1/posts/bulk", json={"channel_telegram_id": CHANNEL["telegram_id"], "posts": posts}).json()["post_ids"]
    experiment = {"name": "more-exploration", "start": True, "variants": [
        {"name": "control", "settings": {}}, {"name": "explore", "settings": {"exploration": 0.2}}]}
    assert client.post("/api/v1/admin/experiments", json=experiment).status_code == 201
    people = []
    for index in range(4):
        telegram_id = next(_ids)
        name = MARKUP if index == 0 else f"Person{index}"
        assert client.post("/api/v1/users/", json={"telegram_id": telegram_id, "first_name": name}).status_code == 201
        started = client.post(f"/api/v1/users/{telegram_id}/training", json={"channels": [f"@{CHANNEL['username']}"], "posts_per_channel": 2})
        assert started.status_code == 200, started.text
        for post_id in ids[-2:]:
            client.post("/api/v1/posts/interactions", json={"user_telegram_id": telegram_id, "post_id": post_id, "interaction_type": "like"})
        assert client.post(f"/api/v1/users/{telegram_id}/training/finish", json={}).status_code == 200
        feed = client.post(f"/api/v1/users/{telegram_id}/feed", json={"limit": 3}).json()["posts"]
        for offset, post in enumerate(feed):
            if offset == 0:  # asked why about the first feed post before rating it
                why = client.post("/api/v1/posts/explain", json={"user_telegram_id": telegram_id, "post_id": post["id"]})
                assert why.status_code == 200, why.text
            kind = "like" if (index + offset) % 2 else "dislike"
            client.post("/api/v1/posts/interactions", json={"user_telegram_id": telegram_id, "post_id": post["id"], "interaction_type": kind})
        people.append(telegram_id)
    return people, people[0]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    database = tmp_path_factory.mktemp("console") / "ppb.db"
    settings = load_settings(DATABASE_URL=f"sqlite:///{database}", PPB_API_KEY=API_KEY, PPB_DEMO_DATA=False,
                             DEFAULT_CHANNELS=f"@{CHANNEL['username']}")
    with ThreadPoolExecutor(1) as pool:  # its own event loop, whatever Playwright runs here
        pool.submit(upgrade, settings.async_database_url).result()
    with serve_in_thread(build_app(settings), free_port()) as url:
        with httpx.Client(base_url=url, headers={"X-API-Key": API_KEY}, timeout=60) as client:
            people, mallory = _seed(client)
        yield Server(url, people, mallory)


@pytest.fixture(scope="module")
def empty_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The app over a store with nobody in it yet."""
    database = tmp_path_factory.mktemp("console-empty") / "ppb.db"
    settings = load_settings(DATABASE_URL=f"sqlite:///{database}", PPB_API_KEY=API_KEY, PPB_DEMO_DATA=False)
    with ThreadPoolExecutor(1) as pool:
        pool.submit(upgrade, settings.async_database_url).result()
    with serve_in_thread(build_app(settings), free_port()) as url:
        yield Server(url, [], 0)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch_chromium() as chromium:
        yield chromium


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    with watched_page(browser, 1280, 900) as page:
        yield page


def sign_in(page: Page, server: Server, key: str = API_KEY) -> None:
    page.goto(f"{server.url}/console/")
    expect(page.locator("[data-role=login]")).to_be_visible()
    page.fill("input[name=api_key]", key)
    page.fill("input[name=operator]", "olga")
    page.click("button[type=submit]")


def test_an_unauthenticated_visit_sees_nothing(page: Page, server: Server) -> None:
    page.goto(f"{server.url}/console/")
    expect(page.locator("#console")).to_have_attribute("data-state", "login")
    expect(page.locator("[data-role=shell]")).to_be_hidden()
    text = page.locator("body").inner_text()
    assert "Mallory" not in text and "Person1" not in text and CHANNEL["username"] not in text
    status = page.evaluate("fetch('/api/v1/admin/users').then(r => r.status)")
    assert status == 401
    screenshot(page, "console-unauthenticated")
    sign_in(page, server, key="wrong-key")
    expect(page.locator("[data-role=login-error]")).to_contain_text("api_key")
    expect(page.locator("[data-role=shell]")).to_be_hidden()


def test_overview_charts_after_sign_in_and_the_cookie_is_out_of_reach(page: Page, server: Server) -> None:
    sign_in(page, server)
    expect(page.locator("#console")).to_have_attribute("data-overview", "loaded")
    for chart in ("funnel", "active", "likes"):
        expect(page.locator(f"canvas[data-chart={chart}]")).not_to_have_attribute("data-drawn", "0")
    expect(page.locator("[data-role=kpis]")).to_contain_text("Like rate of feed posts")
    reasons = page.locator("[data-role=reasons]")
    expect(reasons).to_contain_text("Why this post: the reasons given in the last 30 days")
    expect(reasons).to_contain_text("4 explanations given to 4 people: 0 in the chat, 0 in the Mini App, 4 over the API")
    expect(page.locator("[data-role=reasons-table] tbody tr").first).to_contain_text("%")
    named = page.locator("[data-role=reasons-table] tbody tr td").first.inner_text()
    assert named in {"Written like posts they liked", "Like a post they liked", "People who like what they like liked it",
                     "The channel's record with them", "A topic they have not rated yet (exploration)",
                     "Their dial on the channel", "A must-see word of theirs", "Nothing stood out"}, named
    explained = page.locator("[data-role=explained-table]")
    expect(explained.locator("tbody tr").first).to_have_text("after asking why about them4250.0% (95% CI 15.0%–85.0%)")
    expect(explained).to_contain_text("the rest, by the same people")
    expect(page.locator("[data-role=explained-summary]")).to_contain_text("Posts rated after asking why were liked")
    for word in ("null", "NaN", "undefined"):
        assert word not in reasons.inner_text(), word
    assert "ppb_console" not in page.evaluate("document.cookie"), "the session cookie is HttpOnly"
    screenshot(page, "console-overview")
    forged = page.evaluate("fetch('/api/v1/admin/users/1/block', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: '{}'}).then(r => r.status)")
    assert forged == 403, "a change without the CSRF token is refused"
    page.reload()
    expect(page.locator("#console")).to_have_attribute("data-state", "ready")  # the session outlives a reload
    page.click("[data-role=logout]")
    expect(page.locator("#console")).to_have_attribute("data-state", "login")
    assert page.evaluate("fetch('/api/v1/admin/users').then(r => r.status)") == 401


def test_with_nothing_asked_the_reasons_say_so_in_words(page: Page, empty_server: Server) -> None:
    sign_in(page, empty_server)
    expect(page.locator("#console")).to_have_attribute("data-overview", "loaded")
    expect(page.locator("#console")).to_have_attribute("data-reasons", "0")
    expect(page.locator("[data-role=reasons-summary]")).to_have_text("Nobody asked why about a post in the last 30 days.")
    expect(page.locator("[data-role=explained-summary]")).to_contain_text("Nothing to compare until someone asks why")
    expect(page.locator("[data-role=reasons-table]")).to_be_hidden()
    expect(page.locator("[data-role=explained-table]")).to_be_hidden()
    text = page.locator("[data-role=reasons]").inner_text()
    assert not [word for word in ("null", "NaN", "undefined", "–") if word in text], text


def test_users_search_shows_markup_as_text_and_blocking_is_logged(page: Page, server: Server) -> None:
    sign_in(page, server)
    expect(page.locator("#console")).to_have_attribute("data-state", "ready")
    page.click("[data-tab=users]")
    page.fill("[data-role=user-search] input[name=search]", "mallory")
    page.click("[data-role=user-search] button")
    expect(page.locator("#console")).to_have_attribute("data-users", "1")
    row = page.locator("[data-role=users-table] tbody tr")
    expect(row).to_contain_text(MARKUP)
    row.click()
    detail = page.locator("[data-role=user-detail]")
    expect(detail).to_contain_text("Status history")
    expect(detail.locator("h2")).to_have_text(MARKUP)
    expect(detail).not_to_contain_text("null")  # a part left out (not blocked) is left out, not shown as "null"
    page.click("[data-action=block]")  # asks first, with a reason
    form = page.locator("[data-role=block-form]")
    expect(form).to_be_visible()
    page.click("[data-action=cancel-block]")
    expect(form).to_have_count(0)
    assert page.locator("[data-action=unblock]").count() == 0, "nothing is blocked without confirming"
    page.click("[data-action=block]")
    form.locator("input[name=reason]").fill("Spam in ratings <b>")
    screenshot(page, "console-users-block-confirm")
    form.locator("[data-action=confirm-block]").click()
    expect(page.locator("[data-action=unblock]")).to_be_visible()
    expect(detail.locator("[data-role=blocked]")).to_contain_text("Blocked by olga")
    expect(detail.locator("[data-role=blocked]")).to_contain_text("Spam in ratings <b>")
    expect(detail).to_contain_text("user:block")
    expect(detail).to_contain_text("olga")
    screenshot(page, "console-users")
    assert page.evaluate("window.__xss") is None
    assert page.locator("[data-role=user-detail] img, [data-role=users-table] img, script:not([src])").count() == 0


def test_channels_and_experiments_with_results(page: Page, server: Server) -> None:
    sign_in(page, server)
    expect(page.locator("#console")).to_have_attribute("data-state", "ready")
    page.click("[data-tab=channels]")
    page.fill("[data-role=channel-search] input[name=search]", "consoletest")
    page.click("[data-role=channel-search] button")
    expect(page.locator("#console")).to_have_attribute("data-channels", "1")
    expect(page.locator("[data-role=channels-table] tbody")).to_contain_text(CHANNEL["title"])
    cell = page.locator("[data-role=channels-table] tbody tr").first
    expect(cell).to_contain_text("default (DEFAULT_CHANNELS)")  # by the setting: nothing to make default
    assert cell.locator("button").count() == 0
    screenshot(page, "console-channels")
    page.click("[data-tab=experiments]")
    experiment = page.locator("[data-experiment]").first
    expect(experiment).to_contain_text("more-exploration — running")
    expect(experiment).to_contain_text("control (control)")
    expect(experiment).to_contain_text("p = ")
    screenshot(page, "console-experiments")
    page.click("[data-tab=log]")
    expect(page.locator("[data-role=log-table]")).to_contain_text("experiment:start")
    assert page.evaluate("window.__xss") is None


def test_a_channel_is_made_default_and_unmarked(page: Page, server: Server) -> None:
    sign_in(page, server)
    expect(page.locator("#console")).to_have_attribute("data-state", "ready")
    page.click("[data-tab=channels]")
    page.fill("[data-role=channel-search] input[name=search]", OTHER_CHANNEL["username"])
    page.click("[data-role=channel-search] button")
    row = page.locator("[data-role=channels-table] tbody tr").first
    expect(row).to_contain_text(OTHER_CHANNEL["title"])
    row.locator("[data-action=default]").click()
    expect(row.locator("[data-default=mark]")).to_contain_text("default ✓")
    assert row.locator("[data-action=default]").count() == 0, "no 'make default' on a default channel"
    row.locator("[data-action=undefault]").click()
    expect(row.locator("[data-action=default]")).to_have_text("Make default")


def test_an_experiment_is_made_from_fields_and_an_old_error_leaves_on_success(page: Page, server: Server) -> None:
    sign_in(page, server)
    expect(page.locator("#console")).to_have_attribute("data-state", "ready")
    page.click("[data-tab=experiments]")
    page.click(".new-experiment summary")
    variants = page.locator("[data-role=variants] fieldset.variant")
    expect(variants).to_have_count(2)
    second = variants.nth(1)
    for name in ("regularization", "skip_weight", "spread_weight", "exploration", "collaborative"):
        expect(second.locator(f"input[name={name}]")).to_be_visible()  # each known setting is a field
    expect(second.locator("input[name=exploration]")).to_have_attribute("max", "0.5")
    expect(second.locator("input[name=exploration]")).to_have_attribute("placeholder", "default 0.1")
    page.fill("[data-role=experiment-form] input[name=name]", "skip-weight-test")
    second.locator("input[name=variant_name]").fill("skips-count-less")
    second.locator("input[name=skip_weight]").fill("0.1")
    page.click("[data-action=add-variant]")
    expect(variants).to_have_count(3)
    variants.nth(2).locator("[data-action=remove-variant]").click()
    expect(variants).to_have_count(2)
    page.check("[data-role=experiment-form] input[name=start]")  # one runs already: refused
    page.click("[data-role=experiment-form] button[type=submit]")
    error = page.locator("[data-role=error]")
    expect(error).to_be_visible()
    expect(error).to_contain_text("running")
    screenshot(page, "console-experiment-error")
    page.uncheck("[data-role=experiment-form] input[name=start]")
    page.click("[data-role=experiment-form] button[type=submit]")
    created = page.locator("[data-experiment]", has_text="skip-weight-test — draft")
    expect(created).to_contain_text('skips-count-less (weight 1): {"skip_weight":0.1}')
    expect(error).to_be_hidden()  # the earlier error is gone once the create succeeded
    screenshot(page, "console-experiment-created")
