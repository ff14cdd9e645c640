"""`ppb telegram-login`: log an account in to Telegram (phone, code, two-step password) and
print its `TELETHON_SESSION` string.

Questions and warnings go to standard error, the session string alone to standard output,
so `ppb telegram-login > session.txt` keeps only the secret. The password is read without
echo from a terminal, or as a line from a pipe.
"""

from __future__ import annotations

import asyncio
import getpass
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ppb.config import Settings

WARNING = (
    "TELETHON_SESSION for {who} follows on standard output. It is a password for the whole "
    "account: whoever holds it can read every chat of {who}, send messages as it and change its "
    "settings, without the code or the two-step password. Keep it in a secret store (never in a "
    "repository, a ticket or a log); if it leaks, end it in Telegram under Settings > Devices."
)


class LoginFailed(Exception):
    """Why logging in stopped, for the operator (the exit code is 1)."""


@dataclass
class Prompter:
    """How the command talks to the operator."""

    ask: Callable[[str], str]
    ask_secret: Callable[[str], str]
    tell: Callable[[str], None]


def terminal() -> Prompter:
    """Questions on standard error, answers from standard input (no echo for the password
    when it is a terminal)."""

    def ask(question: str) -> str:
        sys.stderr.write(question)
        sys.stderr.flush()
        line = sys.stdin.readline()
        if not line:
            raise LoginFailed("no answer: standard input ended")
        return line.strip()

    def ask_secret(question: str) -> str:
        if sys.stdin.isatty():
            return getpass.getpass(question, stream=sys.stderr)
        return ask(question)

    def tell(text: str) -> None:
        print(text, file=sys.stderr)

    return Prompter(ask, ask_secret, tell)


def telethon_client(settings: Settings) -> Callable[[Any], Any]:
    """Makes the `TelegramClient` of a (new, empty) session with the application's credentials."""
    if settings.telegram_api_id is None or settings.telegram_api_hash is None:
        missing = [name for name, value in (("TELEGRAM_API_ID", settings.telegram_api_id),
                                            ("TELEGRAM_API_HASH", settings.telegram_api_hash)) if value is None]
        raise LoginFailed(f"set {', '.join(missing)} first (an application of yours from my.telegram.org)")
    api_id, api_hash = settings.telegram_api_id, settings.telegram_api_hash.get_secret_value()

    def make(session: Any) -> Any:
        from telethon import TelegramClient

        return TelegramClient(session, api_id, api_hash, connection_retries=2)

    return make


async def login(make_client: Callable[[Any], Any], prompter: Prompter, attempts: int = 3) -> tuple[str, str]:
    """Log in by phone and code (and two-step password); returns (session string, who)."""
    from telethon import errors, utils
    from telethon.sessions import StringSession

    client = make_client(StringSession())
    try:
        await client.connect()
    except (OSError, ConnectionError) as error:
        raise LoginFailed(f"cannot reach Telegram ({type(error).__name__}): check the network and try again") from None
    try:
        phone = prompter.ask("Phone number of the account PPB reads channels with (with the country code, +44…): ")
        if not utils.parse_phone(phone):  # Telethon would send no number at all
            raise LoginFailed(f"{phone!r} is not a phone number: write its digits with the country code, +44…")
        try:
            await client.send_code_request(phone)
        except errors.PhoneNumberInvalidError:
            raise LoginFailed(f"{phone!r} is not a phone number Telegram accepts: write it with the country code") from None
        except (errors.ApiIdInvalidError, errors.ApiIdPublishedFloodError):
            raise LoginFailed("TELEGRAM_API_ID and TELEGRAM_API_HASH are not a pair Telegram accepts (my.telegram.org)") from None
        except errors.FloodWaitError as error:
            raise LoginFailed(f"Telegram asks to wait {error.seconds} s before it sends another code") from None
        me = None
        for _ in range(attempts):
            code = prompter.ask("The login code Telegram sent (in the Telegram app, else by SMS): ")
            try:
                me = await client.sign_in(phone, code)
                break
            except errors.PhoneCodeInvalidError:
                prompter.tell("That code is not right; try again.")
            except (errors.PhoneCodeExpiredError, errors.PhoneCodeHashEmptyError):
                raise LoginFailed("the code expired: run ppb telegram-login again") from None
            except errors.PhoneNumberUnoccupiedError:
                raise LoginFailed(f"no Telegram account uses {phone}: sign up in a Telegram app first") from None
            except errors.SessionPasswordNeededError:
                me = await _two_step(client, prompter, attempts)
                break
        if me is None:
            raise LoginFailed(f"{attempts} wrong codes: run ppb telegram-login again")
        who = f"{utils.get_display_name(me)} (+{me.phone})" if getattr(me, "phone", None) else utils.get_display_name(me)
        return client.session.save(), who
    finally:
        await client.disconnect()


async def _two_step(client: Any, prompter: Prompter, attempts: int) -> Any:
    from telethon import errors

    for _ in range(attempts):
        password = prompter.ask_secret("The account's two-step verification password: ")
        try:
            return await client.sign_in(password=password)
        except errors.PasswordHashInvalidError:
            prompter.tell("That password is not right; try again.")
    raise LoginFailed(f"{attempts} wrong passwords: run ppb telegram-login again")


def run_login(settings: Settings, *, make_client: Callable[[Any], Any] | None = None,
              prompter: Prompter | None = None) -> int:
    """The command: 0 with the session string printed, 1 when logging in failed, 2 when
    the application's credentials are not set."""
    prompter = prompter or terminal()
    try:
        make = make_client or telethon_client(settings)
    except LoginFailed as error:
        print(f"ppb: {error}", file=sys.stderr)
        return 2
    try:
        session, who = asyncio.run(login(make, prompter))
    except LoginFailed as error:
        print(f"ppb: {error}", file=sys.stderr)
        return 1
    prompter.tell(f"Logged in as {who}.")
    prompter.tell(WARNING.format(who=who))
    print(session)
    return 0
