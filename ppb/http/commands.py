"""The scraper's commands: `POST /cmd/scrape` and `POST /cmd/join`, answered with what happened."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ppb.http.body import parse_body, reply
from ppb.http.schemas import WHOLE, Body, ChannelOut, ChannelText, Out
from ppb.http.services import core_of



class ScrapeRequest(Body):
    channel_username: ChannelText
    limit: Annotated[int, Field(ge=1, le=1000), WHOLE] = 7


class JoinRequest(Body):
    channel_username: ChannelText


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


def _answer(model: Out, flood_wait: int | None) -> Response:
    """200 with the outcome; 202 and Retry-After when a FloodWait queued the request."""
    response = reply(model, 202 if flood_wait else 200)
    if flood_wait:
        response.headers["Retry-After"] = str(flood_wait)
    return response


async def scrape(request: Request) -> Response:
    body = await parse_body(request, ScrapeRequest)
    answer = await core_of(request).scrape(body.channel_username, body.limit)
    return _answer(ScrapeOut.model_validate(answer), answer.get("flood_wait"))


async def join(request: Request) -> Response:
    body = await parse_body(request, JoinRequest)
    answer = await core_of(request).join(body.channel_username)
    return _answer(JoinOut.model_validate(answer), answer.get("flood_wait"))


routes = [
    Route("/cmd/scrape", scrape, methods=["POST"]),
    Route("/cmd/join", join, methods=["POST"]),
]
