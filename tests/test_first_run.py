"""A first run as the README tells it, against the app configured as `make run` leaves it (no
`PPB_API_KEY`, the sandbox on, SQLite) over real HTTP: the README's curl lines work verbatim
(only the port differs), the address `ppb up` prints is a page saying what is where, every
place it names answers, and the console says how to open it. Screenshots in artifacts/first-run-*.png.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect

from ppb.compose.web import http_app as build_app
from ppb.config import load_settings
from ppb.runtime import up_banner
from ppb.store.migrate import upgrade
from tests.browser import launch_chromium, screenshot, serve_in_thread, watched_page
from tests.conftest import repo_root
from tests.ports import free_port

README_PORT = "8000"


def readme_curl_lines() -> list[str]:
    """The curl lines of the README's "What you will see" section, as written."""
    readme = (repo_root() / "README.md").read_text()
    section = readme.split("## What you will see", 1)[1].split("\n## ", 1)[0]
    block = section.split("```", 2)[1]
    return [line for line in block.splitlines() if line.startswith("curl ")]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """The app as `make run` configures it, on a free port; yields its base URL and port."""
    folder = tmp_path_factory.mktemp("first-run")
    settings = load_settings(DATABASE_URL=f"sqlite:///{folder / 'ppb.db'}")
    assert settings.api_key is None and settings.use_sandbox
    with ThreadPoolExecutor(1) as pool:  # its own event loop, whatever Playwright runs here
        pool.submit(upgrade, settings.async_database_url).result()
    port = free_port()
    with serve_in_thread(build_app(settings), port) as url:
        yield url, port


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch_chromium() as chromium:
        yield chromium


def test_the_readme_curl_lines_work_as_written(server: tuple[str, int], tmp_path: Path) -> None:
    _, port = server
    lines = readme_curl_lines()
    assert len(lines) >= 4 and any("-d " in line for line in lines), lines
    (tmp_path / ".curlrc").write_text('write-out = "\\n%{http_code}"\nmax-time = 60\n')  # the status, after the body
    for line in lines:
        command = line.replace(f"localhost:{README_PORT}", f"localhost:{port}")
        assert command != line, f"the README's line should name localhost:{README_PORT}: {line}"
        result = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=90,
                                env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
        body, _, status = result.stdout.rpartition("\n")
        assert result.returncode == 0 and status.startswith("2"), f"{line}\n-> {status} {body[:300]}"
        promised = re.search(r"#\s*(\{.*\})\s*$", line)  # the output the README shows in a comment
        if promised:
            assert body == promised.group(1), line
        if "-d " in line:
            sent = shlex.split(line.split("-d ", 1)[1].split("#", 1)[0])[0]
            assert httpx.Response(200, content=body).json()["username"] == httpx.Response(200, content=sent).json()["username"]


def test_curl_without_a_content_type_is_told_what_to_add(server: tuple[str, int]) -> None:
    url, _ = server
    refused = httpx.post(f"{url}/api/v1/users/", content=b'{"telegram_id": 5}',
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert refused.status_code == 415
    assert "-H 'Content-Type: application/json'" in refused.json()["detail"]


def test_the_printed_address_is_a_page_saying_what_is_where(server: tuple[str, int], browser: Browser) -> None:
    url, _ = server
    settings = load_settings()
    banner = up_banner(settings)
    assert "/console/ (closed: put PPB_API_KEY=" in banner  # ppb up says how to open the console
    with watched_page(browser, 1024, 760) as page:
        response = page.goto(f"{url}/")
        assert response is not None and response.status == 200
        names = {"Sandbox chat": "/sandbox/", "Mini App": "/miniapp/", "Operators' console": "/console/",
                 "API document": "/openapi.json", "Health": "/readyz"}
        for name, path in names.items():
            link = page.get_by_role("link", name=name)
            expect(link).to_have_attribute("href", path)
            assert path in banner, f"ppb up should print {path}"
        expect(page.locator("body")).to_contain_text("closed: put PPB_API_KEY=")
        screenshot(page, "first-run-home")
        for name, path in names.items():
            page.goto(f"{url}/")
            with page.expect_navigation() as navigation:
                page.get_by_role("link", name=name).click()
            opened = navigation.value
            assert opened is not None and opened.status == 200, f"{name} ({path}) -> {opened and opened.status}"
        page.goto(f"{url}/console/")
        error = page.locator("[data-role=login-error]")
        expect(error).to_contain_text("PPB_API_KEY: not set")
        expect(error).to_contain_text("start PPB again")
        screenshot(page, "first-run-console-closed")
