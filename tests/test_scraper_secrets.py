"""The Telethon session string is a password: never in a repr, an error, a log line or a name."""

from __future__ import annotations

import logging
import os

import pytest
from telethon import TelegramClient
from telethon.crypto import AuthKey
from telethon.sessions import StringSession

from ppb.actors.scraper import RayScraperClient, actor_name
from ppb.compose.scraper import scraper_client, scraper_session
from ppb.config import load_settings
from ppb.scraper.errors import ScraperUnavailable
from ppb.scraper.session import Scraper
from ppb.scraper.telethon_session import TelethonSession, missing_settings


def real_session_string() -> str:
    session = StringSession()
    session.set_dc(2, "149.154.167.51", 443)
    session.auth_key = AuthKey(os.urandom(256))
    return session.save()


def configured(secret: str, **extra: str):
    return load_settings(
        TELEGRAM_API_ID="123456", TELEGRAM_API_HASH="hash-0123456789abcdef", TELETHON_SESSION=secret, **extra
    )


def test_the_session_never_shows(store) -> None:
    secret = real_session_string()
    settings = configured(secret)
    factory = TelethonSession(settings)
    client = factory()
    assert isinstance(client, TelegramClient) and client.flood_sleep_threshold == 0
    scraper = Scraper(store, factory, name=factory.name)
    shown = [repr(settings), str(settings), repr(factory), repr(scraper), actor_name(settings),
             repr(RayScraperClient(settings, scraper_session)), settings.model_dump_json()]
    for text in shown:
        assert secret not in text and secret[:24] not in text
    assert "hash-0123456789abcdef" not in repr(factory)


async def test_a_broken_session_is_a_clear_error_that_hides_it(store, caplog) -> None:
    secret = "1" + "QUJD" * 60  # the shape of a session string, but not one
    factory = TelethonSession(configured(secret))
    scraper = Scraper(store, factory, name=factory.name)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ScraperUnavailable) as raised:
        await scraper.scrape("@durov", 3)
    assert "TELETHON_SESSION: not a valid Telethon string session" in raised.value.detail
    assert raised.value.__cause__ is None and raised.value.__suppress_context__
    assert secret not in str(raised.value) and secret not in caplog.text


def test_a_partial_configuration_names_what_is_missing(store) -> None:
    settings = load_settings(TELETHON_SESSION=real_session_string())
    assert missing_settings(settings) == ["TELEGRAM_API_ID", "TELEGRAM_API_HASH"]
    assert scraper_client(settings, store) is None
    with pytest.raises(ScraperUnavailable, match="TELEGRAM_API_ID, TELEGRAM_API_HASH"):
        TelethonSession(settings)
    assert scraper_client(load_settings(), store) is None
