"""The Mini App's settings tab in headless Chromium: the rules load, save, a refused value is
shown with the field the server names, and a muted word leaves the deck."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, expect

from tests.browser import screenshot
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
    expect(page.locator("[data-role=settings-status]")).to_contain_text("timezone")
    form.locator("[name=timezone]").fill("Europe/Moscow")
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
