"""`ppb telegram-login` against the Telegram stand, its answers fed on standard input: the
session string printed (alone on standard output) logs a real Telethon client in; wrong
codes and two-step passwords are asked again; what cannot work is a clear exit."""

from __future__ import annotations

import asyncio
import io
import sys

import pytest

from ppb.cli import main
from ppb.config import load_settings
from ppb.scraper.login import run_login
from tests.telegram_stand import API_HASH, API_ID, TelegramStand, scraper_clients


def settings():
    return load_settings(TELEGRAM_API_ID=str(API_ID), TELEGRAM_API_HASH=API_HASH)


def feed(monkeypatch: pytest.MonkeyPatch, *lines: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("".join(f"{line}\n" for line in lines)))


def logged_in_as(stand: TelegramStand, session: str) -> str:
    """The first name a scraper's client (built by PPB from the session) is logged in as."""

    async def ask() -> str:
        client = scraper_clients(stand, session)()
        await client.connect()
        try:
            assert await client.is_user_authorized()
            return (await client.get_me()).first_name
        finally:
            await client.disconnect()

    return asyncio.run(ask())


def test_login_prints_a_session_string_that_logs_the_scraper_in(monkeypatch, capsys) -> None:
    stand = TelegramStand(login_code="24680")
    account = stand.add_account("+15550001111", "Ops")
    feed(monkeypatch, "+1 555 000 1111", "13579", "24680")  # a wrong code first

    assert run_login(settings(), make_client=stand.client) == 0
    out, err = capsys.readouterr()
    assert out.count("\n") == 1, "the session string alone on standard output"
    session = out.strip()
    assert stand.account_of(session) is account
    assert "That code is not right; try again." in err
    assert "Logged in as Ops (+15550001111)." in err
    assert "password for the whole account" in err and "Settings > Devices" in err
    assert session not in err
    assert logged_in_as(stand, session) == "Ops"


def test_two_step_verification_is_asked_until_right(monkeypatch, capsys) -> None:
    stand = TelegramStand(login_code="11111")
    stand.add_account("+447700900123", "Scraper", password="correct horse battery")
    feed(monkeypatch, "+447700900123", "11111", "Tr0ub4dor&3", "correct horse battery")

    assert run_login(settings(), make_client=stand.client) == 0
    out, err = capsys.readouterr()
    assert "That password is not right; try again." in err
    assert logged_in_as(stand, out.strip()) == "Scraper"
    assert stand.calls["auth.CheckPassword"] == 2


def test_what_cannot_work_is_a_clear_exit(monkeypatch, capsys) -> None:
    stand = TelegramStand(login_code="11111")
    feed(monkeypatch, "+15559990000", "11111")
    assert run_login(settings(), make_client=stand.client) == 1
    assert "no Telegram account uses +15559990000" in capsys.readouterr().err

    feed(monkeypatch, "not a phone")
    assert run_login(settings(), make_client=stand.client) == 1
    assert "'not a phone' is not a phone number: write its digits with the country code" in capsys.readouterr().err
    feed(monkeypatch, "+12")
    assert run_login(settings(), make_client=stand.client) == 1
    assert "'+12' is not a phone number Telegram accepts" in capsys.readouterr().err

    stand.add_account("+15550002222", "Ops", password="secret")
    feed(monkeypatch, "+15550002222", "11111", "a", "b", "c")
    assert run_login(settings(), make_client=stand.client) == 1
    assert "3 wrong passwords" in capsys.readouterr().err

    stand.down = True
    assert run_login(settings(), make_client=stand.client) == 1
    assert "cannot reach Telegram" in capsys.readouterr().err
    assert capsys.readouterr().out == ""

    for name in ("TELEGRAM_API_ID", "TELEGRAM_API_HASH", "TELETHON_SESSION"):
        monkeypatch.delenv(name, raising=False)
    assert main(["telegram-login"]) == 2
    assert "set TELEGRAM_API_ID, TELEGRAM_API_HASH first" in capsys.readouterr().err
