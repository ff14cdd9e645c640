"""Mini App authentication: Telegram's signed initData, checked and (for the sandbox) signed.

The signature is aiogram's (`aiogram.utils.web_app`): HMAC-SHA256 over the sorted
`key=value` lines except `hash`, keyed by HMAC("WebAppData", bot token). On top of it the
age of `auth_date` is bounded, so a leaked initData stops working.
"""

from __future__ import annotations

import time

from aiogram.utils.web_app import WebAppInitData, WebAppUser, safe_parse_webapp_init_data

from ppb.config import Settings, sandbox_bot_token
from ppb.domain.init_data import sign_init_data

__all__ = ["InitDataError", "init_data_from_header", "miniapp_bot_token", "sign_init_data", "verify_init_data"]

SCHEME = "tma"
CLOCK_SKEW_S = 300  # an auth_date this far in the future is still accepted (clocks differ)


class InitDataError(ValueError):
    """initData that does not prove who the user is; the message says why, for a person."""


def miniapp_bot_token(settings: Settings) -> str:
    """The bot token that checks initData: `BOT_TOKEN`, else the sandbox's own token."""
    if settings.bot_token is not None:
        return settings.bot_token.get_secret_value()
    return sandbox_bot_token(settings)


def init_data_from_header(value: str | None) -> str:
    """The initData of an `Authorization: tma <initData>` header."""
    if not value:
        raise InitDataError("Authorization: the header `tma <initData>` is required")
    scheme, _, credentials = value.strip().partition(" ")
    if scheme.lower() != SCHEME or not credentials.strip():
        raise InitDataError("Authorization: expected `tma <initData>`")
    return credentials.strip()


def verify_init_data(
    init_data: str, token: str, *, max_age: float, now: float | None = None
) -> WebAppUser:
    """The user the initData proves; raises InitDataError for a bad signature or age."""
    try:
        parsed: WebAppInitData = safe_parse_webapp_init_data(token, init_data)
    except (ValueError, TypeError):  # a wrong hash (TypeError: not ASCII), or bad fields
        raise InitDataError("Authorization: the initData signature is not valid") from None
    now = time.time() if now is None else now
    age = now - parsed.auth_date.timestamp()
    if age > max_age:
        raise InitDataError(
            f"Authorization: the initData is {int(age)} s old (at most {int(max_age)} s); "
            "open the Mini App again"
        )
    if age < -CLOCK_SKEW_S:
        raise InitDataError("Authorization: the initData auth_date is in the future")
    if parsed.user is None:
        raise InitDataError("Authorization: the initData names no user")
    return parsed.user
