"""`/api/v1/admin/analytics/…`: what operators read to see whether PPB works."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ppb.http.admin_io import out, services
from ppb.http.body import parse_query
from ppb.http.schemas import WHOLE, Body
from ppb.store.analytics import Analytics, rate


class Window(Body):
    days: Annotated[int, Field(ge=1, le=3660), WHOLE] = 30
    period: Literal["day", "week"] = "day"


class ChannelQuery(Body):
    search: Annotated[str, Field(max_length=128)] | None = None
    limit: Annotated[int, Field(ge=1, le=500), WHOLE] = 100
    offset: Annotated[int, Field(ge=0, le=1_000_000), WHOLE] = 0


def _analytics(request: Request) -> Analytics:
    return Analytics(services(request).store)


async def overview(request: Request) -> Response:
    """What the console's first page shows, in one call: the window's ratings are read once
    (the like rate here is the window's, from the daily figures)."""
    window = parse_query(request, Window)
    analytics = _analytics(request)
    daily = await analytics.daily(window.days)
    window_rate = rate(sum(d["feed_likes"] for d in daily), sum(d["feed_ratings"] for d in daily))
    return out({
        "days": window.days, "funnel": await analytics.funnel(), "like_rate": window_rate,
        "active_7_days": await analytics.active_since(7), "training": await analytics.training(),
        "nudges": await analytics.nudges(), "daily": daily, "reasons": await analytics.reasons(window.days),
    })


async def funnel(request: Request) -> Response:
    return out(await _analytics(request).funnel())


async def active(request: Request) -> Response:
    window = parse_query(request, Window)
    return out({"period": window.period, "points": await _analytics(request).active_users(window.days, window.period)})


async def ratings(request: Request) -> Response:
    window = parse_query(request, Window)
    analytics = _analytics(request)
    return out({"overall": await analytics.like_rate(), "days": await analytics.daily(window.days)})


async def training(request: Request) -> Response:
    return out(await _analytics(request).training())


async def nudges(request: Request) -> Response:
    return out(await _analytics(request).nudges())


async def reasons(request: Request) -> Response:
    """The reasons explanations led with, and the like rate of posts rated after asking why."""
    window = parse_query(request, Window)
    return out(await _analytics(request).reasons(window.days))


async def channels(request: Request) -> Response:
    params = parse_query(request, ChannelQuery)
    rows = await _analytics(request).channels(params.search, params.limit, params.offset)
    return out({"channels": services(request).core.with_default_source(rows)})


routes = [
    Route("/analytics/overview", overview, methods=["GET"]),
    Route("/analytics/funnel", funnel, methods=["GET"]),
    Route("/analytics/active", active, methods=["GET"]),
    Route("/analytics/ratings", ratings, methods=["GET"]),
    Route("/analytics/training", training, methods=["GET"]),
    Route("/analytics/nudges", nudges, methods=["GET"]),
    Route("/analytics/reasons", reasons, methods=["GET"]),
    Route("/analytics/channels", channels, methods=["GET"]),
]
