"""Each kind of domain error answers with its HTTP status, given in one place
(`ppb/http/errors.py`), and a REST client reads the same kind back (`ppb/bot/api.py`)."""

from __future__ import annotations

import pytest

from ppb.bot.api import error_for
from ppb.domain.errors import (
    Blocked,
    Conflict,
    DomainError,
    Forbidden,
    ForbiddenTransition,
    Invalid,
    LimitReached,
    NotConfigured,
    NotFound,
    NotYetKnown,
    Unavailable,
)
from ppb.http.errors import status_of
from ppb.scraper.errors import ChannelPrivate, ChannelUnreadable, ScraperUnavailable, TooManyChannels


@pytest.mark.parametrize("error, status", [
    (Invalid("field: wrong"), 422), (NotFound("user 1 not found"), 404), (Conflict("busy"), 409),
    (LimitReached("is_bonus: full"), 409), (ForbiddenTransition("new", "view_feed", []), 409),
    (NotYetKnown("channel: PPB has no channel '@x' yet"), 409), (Blocked("user: blocked"), 403),
    (Forbidden("no"), 403), (Unavailable("down"), 503), (NotConfigured("scraper: not configured"), 409),
    (DomainError("variants[1].name: twice"), 400), (ChannelUnreadable("channel_username: bad"), 422),
    (ChannelPrivate("@x is private"), 403), (TooManyChannels("too many"), 409), (ScraperUnavailable("down"), 503),
])
def test_each_kind_answers_with_its_status(error: DomainError, status: int) -> None:
    assert status_of(error) == status


@pytest.mark.parametrize("error", [
    Invalid("field: wrong"), NotFound("user 1 not found"), Conflict("busy"), Blocked("user: blocked"),
    Unavailable("down"), NotConfigured("scraper: not configured on this server"),
    NotYetKnown("channel: PPB has no channel '@x' yet"),
])
def test_a_rest_client_reads_back_the_kind_it_was_refused_with(error: DomainError) -> None:
    read = error_for(status_of(error), error.detail)
    assert type(read) is type(error) and read.detail == error.detail
