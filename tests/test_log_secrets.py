"""No bot token and no URL password reaches a log, whichever logger writes it."""

from __future__ import annotations

import logging

import aiohttp
import pytest

from ppb import logsafe

TOKEN = "1234567890:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"


@pytest.fixture(autouse=True)
def redacting() -> None:
    logsafe.install()


def test_a_bot_api_url_in_an_error_is_redacted(caplog: pytest.LogCaptureFixture) -> None:
    url = f"https://api.telegram.org/bot{TOKEN}/getUpdates"
    error = aiohttp.InvalidURL(url)
    with caplog.at_level(logging.INFO):
        logging.getLogger("aiogram.dispatcher").error("Failed to fetch updates - %s", error)
        logging.getLogger("ray.serve").info(f"GET /sandbox/botapi/bot{TOKEN}/getMe 200 1.2ms")
        try:
            raise RuntimeError(f"request to {url} failed")
        except RuntimeError:
            logging.getLogger("ppb.bot").exception("polling stopped")
    shown = caplog.text + "".join(logging.Formatter().format(record) for record in caplog.records)
    assert TOKEN not in shown and TOKEN.split(":")[1] not in shown
    assert shown.count("<bot token>") >= 3


def test_a_url_password_is_redacted(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        logging.getLogger("ppb").warning("cannot reach %s", "postgresql://ppb:pg-secret@db:5432/ppb")
    assert "pg-secret" not in caplog.text and "postgresql://ppb:***@db:5432/ppb" in caplog.text


def test_ordinary_text_is_untouched() -> None:
    assert logsafe.redact("user 42: rated post 7 at 12:30") == "user 42: rated post 7 at 12:30"
