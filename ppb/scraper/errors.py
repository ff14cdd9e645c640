"""What can go wrong with a channel or the session, as errors a person can read."""

from __future__ import annotations

from ppb.domain.errors import DomainError, NotFound, Unavailable

__all__ = ["ChannelPrivate", "ChannelUnreadable", "NotFound", "ScraperUnavailable", "TooManyChannels"]


class ChannelUnreadable(DomainError):
    """The channel exists but this session cannot read it (not a channel, a bad name)."""

    status_code = 422


class ChannelPrivate(ChannelUnreadable):
    """The channel is private, or closed to this session (banned): only its members read it."""

    status_code = 403


class ScraperUnavailable(Unavailable):
    """The scraper is not configured, cannot log in, or cannot reach Telegram."""


class TooManyChannels(DomainError):
    """The session watches as many channels as PPB_SCRAPER_MAX_CHANNELS allows."""

    status_code = 409
