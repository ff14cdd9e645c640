"""Headless Chromium (Debian's package, driven by Playwright) and a real HTTP server for it.

Playwright's own browser download is never used: `launch_chromium` points Playwright at the
system Chromium. `serve_in_thread` runs an ASGI app under uvicorn on a free port.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import uvicorn
from playwright.sync_api import Browser, Locator, Page, Playwright, expect, sync_playwright

CHROMIUM_NAMES = ("/usr/bin/chromium", "chromium", "chromium-browser")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(os.environ.get("PPB_ARTIFACTS") or Path(__file__).resolve().parent.parent / "artifacts")
"""Where screenshots land: `artifacts/` at the top of the repository, or $PPB_ARTIFACTS."""
EXPECT_DEADLINE_MS = 20_000
"""How long an `expect(...)` waits for the page to get there: Playwright's 5 s default is
crossed on a loaded machine when a step goes through the server, Ray and back."""
expect.set_options(timeout=EXPECT_DEADLINE_MS)


def chromium_path() -> str:
    """The system Chromium; fails naming the package to install when there is none."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise AssertionError("Chromium is not installed: apt-get install -y chromium")


@contextlib.contextmanager
def launch_chromium() -> Iterator[Browser]:
    """One headless Chromium for a module or session; closed at the end."""
    with sync_playwright() as playwright:
        browser = _launch(playwright)
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def sandbox_chat(browser: Browser, base: str, user_id: int, locale: str = "en-US",
                 path: str = "/sandbox/") -> Iterator[Page]:
    """The sandbox's web chat at `base` as a fresh person `user_id` named Ann (set before the
    page's script runs) in a browser speaking `locale` (the language the chat tells the bot,
    as a Telegram client does); opens `path` first. Fails the test if a script on it threw."""
    with watched_page(browser, 480, 820, locale=locale) as page:
        page.context.add_init_script(
            f"localStorage.setItem('ppb-sandbox-user', '{user_id}');"
            "localStorage.setItem('ppb-sandbox-name', 'Ann');"
        )
        page.goto(f"{base}{path}")
        yield page


def sandbox_user(page: Page) -> int:
    """The person the sandbox chat speaks as."""
    return int(page.locator("#user-id").input_value())


def sandbox_send(page: Page, text: str) -> None:
    """Type `text` into the sandbox chat and send it."""
    page.fill("#text", text)
    page.click("#composer button[type=submit]")


@contextlib.contextmanager
def watched_page(browser: Browser, width: int = 420, height: int = 760,
                 timezone_id: str | None = None, locale: str = "en-US") -> Iterator[Page]:
    """A fresh page (its own context, in the device time zone `timezone_id` if given, its
    browser speaking `locale`); fails the test if a script on it threw."""
    context = browser.new_context(viewport={"width": width, "height": height}, locale=locale,
                                  **({"timezone_id": timezone_id} if timezone_id else {}))
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == [], f"the page threw: {errors}"


def _launch(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)


def screenshot(page: Page, name: str) -> Path:
    """Keep what the page looks like now as `artifacts/<name>.png` (`name` may hold folders)."""
    path = ARTIFACTS / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    return path


def wait_until(condition: Callable[[], bool], deadline_s: float, what: str) -> None:
    """Poll `condition` until it holds; fail naming `what` after the deadline."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {deadline_s} s waiting for {what}")


@contextlib.contextmanager
def serve_in_thread(app: object, port: int) -> Iterator[str]:
    """Serve `app` over real HTTP on 127.0.0.1:`port` (lifespan included); yields the base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started or not thread.is_alive(), 30, "the HTTP server to start")
        assert server.started, "the HTTP server did not start (see the log above)"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def swipe(page: Page, card: Locator, dx: int) -> None:
    """Drag `card` sideways by `dx` pixels, as a finger does."""
    box = card.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(x + dx * step / 10, y + 4 * step / 10)
    page.mouse.up()
