"""What can go wrong with a channel or the session, as errors a person can read."""

from __future__ import annotations

from ppb.domain.errors import Conflict, Forbidden, Invalid, NotFound, Unavailable

__all__ = ["ChannelPrivate", "ChannelUnreadable", "NotFound", "ScraperUnavailable", "TooManyChannels"]


class ChannelUnreadable(Invalid):
    """The channel exists but this session cannot read it (not a channel, a bad name)."""


class ChannelPrivate(Forbidden):
    """The channel is private, or closed to this session (banned): only its members read it."""


class ScraperUnavailable(Unavailable):
    """The scraper is not configured, cannot log in, or cannot reach Telegram."""


class TooManyChannels(Conflict):
    """The session watches as many channels as PPB_SCRAPER_MAX_CHANNELS allows."""
