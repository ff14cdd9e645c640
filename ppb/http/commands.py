"""The scraper's commands: `POST /cmd/scrape` and `POST /cmd/join`, answered with what happened."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ppb.domain.channels import parse_channel
from ppb.domain.errors import DomainError, Unavailable
from ppb.http.body import parse_body, reply
from ppb.http.schemas import Body, ChannelOut, Out, Text
from ppb.scraper.client import ScraperClient

ChannelName = Annotated[Text, Field(min_length=1, max_length=128)]


class ScrapeRequest(Body):
    channel_username: ChannelName
    limit: Annotated[int, Field(ge=1, le=1000)] = 7


class JoinRequest(Body):
    channel_username: ChannelName


class ScrapeOut(Out):
    status: Literal["ok", "flood_wait"]
    posts_count: int = 0
    created_count: int = 0
    stored_count: int | None = None
    channel: ChannelOut | None = None
    flood_wait: int | None = None
    queued: bool = False
    detail: str | None = None


class JoinOut(Out):
    status: Literal["joined", "already_joined", "requested", "flood_wait"]
    channel: ChannelOut | None = None
    flood_wait: int | None = None
    queued: bool = False
    detail: str | None = None


def _scraper(request: Request) -> ScraperClient:
    scraper = request.app.state.services.scraper
    if scraper is None:
        raise Unavailable(
            "the scraper is not configured (set TELEGRAM_API_ID, TELEGRAM_API_HASH and "
            "TELETHON_SESSION); posts already in the store still serve training and feeds"
        )
    return scraper


def _check_channel(name: str) -> None:
    try:
        parse_channel(name)
    except DomainError as error:
        raise HTTPException(422, f"channel_username: {error.detail}") from None


def _answer(model: Out, flood_wait: int | None) -> Response:
    """200 with the outcome; 202 and Retry-After when a FloodWait queued the request."""
    response = reply(model, 202 if flood_wait else 200)
    if flood_wait:
        response.headers["Retry-After"] = str(flood_wait)
    return response


async def scrape(request: Request) -> Response:
    body = await parse_body(request, ScrapeRequest)
    _check_channel(body.channel_username)
    answer = await _scraper(request).scrape(body.channel_username, body.limit)
    return _answer(ScrapeOut.model_validate(answer), answer.get("flood_wait"))


async def join(request: Request) -> Response:
    body = await parse_body(request, JoinRequest)
    _check_channel(body.channel_username)
    answer = await _scraper(request).join(body.channel_username)
    return _answer(JoinOut.model_validate(answer), answer.get("flood_wait"))


routes = [
    Route("/cmd/scrape", scrape, methods=["POST"]),
    Route("/cmd/join", join, methods=["POST"]),
]
