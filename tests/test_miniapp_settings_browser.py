"""The Mini App's settings tab in headless Chromium: the rules load and save, a place is found
by its city or country name (or the device's own zone is taken), a value that cannot be saved
is explained in the person's language (never the server's words), and a muted word leaves
the deck."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser import screenshot, watched_page
from tests.test_miniapp_browser import API_KEY, Server, browser, open_app, page, server  # noqa: F401  (fixtures)


def test_settings_tab_saves_the_rules_and_a_muted_word_leaves_the_deck(page: Page, server: Server) -> None:  # noqa: F811
    user = open_app(page, server)
    expect(page.locator("#app")).to_have_attribute("data-state", "ready")
    expect(page.locator(".card", has_text="Rust 2.0 released")).to_have_count(1)
    page.click("[data-view=settings]")
    form = page.locator("[data-role=settings]")
    expect(form).to_be_visible()
    expect(page.locator("[data-role=deck]")).to_be_hidden()
    expect(form.locator("[name=delivery]")).to_have_value("both")
    expect(form.locator("[name=timezone]")).to_have_value("UTC")
    form.locator("[name=timezone]").fill("Mars/Olympus")
    form.locator("button[type=submit]").click()
    status = page.locator("[data-role=settings-status]")
    expect(status).to_contain_text("I don't know the place “Mars/Olympus”")
    expect(status).to_contain_text("for example Moscow")
    expect(status).not_to_contain_text("Value error")
    form.locator("[name=timezone]").fill("Moscow")
    form.locator("[name=delivery]").select_option("digest")
    form.locator("[name=mute_words]").fill("rust, футбол")
    form.locator("[name=hide_ads]").check()
    form.locator("button[type=submit]").click()
    expect(page.locator("[data-role=settings-status]")).to_have_text("Saved.")
    screenshot(page, "miniapp-settings")
    with httpx.Client(base_url=server.url, headers={"X-API-Key": API_KEY}) as client:
        rules = client.get(f"/api/v1/users/{user}/rules").json()
    assert rules["delivery"] == "digest" and rules["timezone"] == "Europe/Moscow"
    assert rules["mute_words"] == ["rust", "футбол"] and rules["hide_ads"] is True
    page.click("[data-mode=training]")
    expect(form).to_be_hidden()
    page.reload()
    expect(page.locator("#app")).to_have_attribute("data-state", "ready")
    expect(page.locator(".card", has_text="Cats sleep")).to_have_count(1)
    expect(page.locator(".card", has_text="Rust 2.0 released")).to_have_count(0)



def test_settings_tab_keeps_must_see_words_and_turns_a_channel_dial(page: Page, server: Server) -> None:  # noqa: F811
    user = open_app(page, server)
    expect(page.locator("#app")).to_have_attribute("data-state", "ready")
    page.click("[data-view=settings]")
    form = page.locator("[data-role=settings]")
    dial = form.locator("[data-role=dials] select").first
    expect(dial).to_have_value("normal")
    expect(dial.locator("option")).to_have_text(["Normal", "More", "Less", "Never"])
    channel = dial.get_attribute("data-channel")
    dial.select_option("less")
    form.locator("[name=must_words]").fill("Cats, кот")
    form.locator("button[type=submit]").click()
    expect(page.locator("[data-role=settings-status]")).to_have_text("Saved.")
    with httpx.Client(base_url=server.url, headers={"X-API-Key": API_KEY}) as client:
        rules = client.get(f"/api/v1/users/{user}/rules").json()
    assert rules["must_words"] == ["Cats", "кот"]
    assert {d["channel"]: d["dial"] for d in rules["channel_dials"]}[channel] == "less"
    page.reload()
    expect(page.locator("#app")).to_have_attribute("data-state", "ready")
    page.click("[data-view=settings]")
    expect(page.locator(f"[data-role=dials] select[data-channel='{channel}']")).to_have_value("less")


@pytest.fixture
def page_in_almaty(browser: Browser):  # noqa: F811
    with watched_page(browser, timezone_id="Asia/Almaty") as page:
        yield page


def test_a_russian_reader_finds_the_zone_by_country_or_takes_the_devices_and_reads_russian_refusals(
        page_in_almaty: Page, server: Server) -> None:  # noqa: F811
    page = page_in_almaty
    user = open_app(page, server, language="ru")
    expect(page.locator("#app")).to_have_attribute("data-state", "ready")
    page.click("[data-view=settings]")
    form = page.locator("[data-role=settings]")
    status = page.locator("[data-role=settings-status]")
    expect(form.locator("[name=timezone]")).to_have_value("UTC")
    device = page.locator("[data-role=zone-device]")
    expect(device).to_have_text("Взять часовой пояс этого устройства: Asia/Almaty")

    form.locator("[name=timezone]").fill("Россия")
    form.locator("button[type=submit]").click()
    expect(status).to_have_text("В «Россия» несколько часовых поясов. Выбери свой:")
    moscow = page.locator("[data-role=zone-choices] button", has_text="Москва (Europe/Moscow)")
    screenshot(page, "miniapp-settings-zone-choices-ru")
    moscow.click()
    expect(status).to_have_text("Сохранено.")
    expect(form.locator("[name=timezone]")).to_have_value("Europe/Moscow")

    device.click()
    expect(form.locator("[name=timezone]")).to_have_value("Asia/Almaty")
    form.locator("[name=mute_words]").fill("x" * 70)
    form.locator("button[type=submit]").click()
    expect(status).to_contain_text("В каждом скрытом слове нужна буква или цифра")
    expect(status).not_to_contain_text("mute_words")
    form.locator("[name=mute_words]").fill("футбол")
    form.locator("[name=quiet_end]").fill("")
    form.locator("button[type=submit]").click()
    expect(status).to_contain_text("Укажи, когда тихие часы начинаются и заканчиваются")
    form.locator("[name=quiet_end]").fill("07:30")
    form.locator("button[type=submit]").click()
    expect(status).to_have_text("Сохранено.")
    screenshot(page, "miniapp-settings-ru")
    with httpx.Client(base_url=server.url, headers={"X-API-Key": API_KEY}) as client:
        rules = client.get(f"/api/v1/users/{user}/rules").json()
    assert rules["timezone"] == "Asia/Almaty" and rules["quiet_end"] == "07:30" and rules["mute_words"] == ["футбол"]
