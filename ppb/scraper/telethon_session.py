"""Building the Telethon client from settings; the session string never leaves this object."""

from __future__ import annotations

import hashlib
from typing import Any

from ppb.config import Settings
from ppb.scraper.errors import ScraperUnavailable


def missing_settings(settings: Settings) -> list[str]:
    """The variables a scraper session still needs (empty when it is configured)."""
    wanted = {
        "TELEGRAM_API_ID": settings.telegram_api_id,
        "TELEGRAM_API_HASH": settings.telegram_api_hash,
        "TELETHON_SESSION": settings.telethon_session,
    }
    return [name for name, value in wanted.items() if value is None]


def session_name(settings: Settings) -> str:
    """A stable name for the session that reveals nothing of it: a short digest."""
    secret = settings.telethon_session.get_secret_value() if settings.telethon_session else ""
    return hashlib.sha256(secret.encode()).hexdigest()[:12]


class TelethonSession:
    """Makes the `TelegramClient` of a `StringSession`; its repr shows no secret."""

    def __init__(self, settings: Settings) -> None:
        missing = missing_settings(settings)
        if missing:
            raise ScraperUnavailable(f"the scraper is not configured: set {', '.join(missing)}")
        assert settings.telegram_api_id is not None
        assert settings.telegram_api_hash is not None and settings.telethon_session is not None
        self.name = session_name(settings)
        self._api_id = settings.telegram_api_id
        self._api_hash = settings.telegram_api_hash
        self._session = settings.telethon_session

    def __repr__(self) -> str:
        return f"TelethonSession(name={self.name!r}, api_id={self._api_id}, session='**********')"

    def __call__(self) -> Any:
        from telethon import TelegramClient
        from telethon.sessions import StringSession

        try:
            session = StringSession(self._session.get_secret_value())
        except Exception:
            raise ScraperUnavailable("TELETHON_SESSION: not a valid Telethon string session") from None
        # FloodWaits are never slept inside Telethon: the scraper queues them (flood_sleep_threshold=0).
        return TelegramClient(
            session, self._api_id, self._api_hash.get_secret_value(), flood_sleep_threshold=0
        )
