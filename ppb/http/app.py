"""`build_app(settings, services)`: the REST API, the Mini App and the console as one Starlette
application, the same under Serve and uvicorn (the composition root adds the sandbox and the
webhook when configured)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount, Route

from ppb import heap, logsafe
from ppb.config import Settings, is_loopback
from ppb.http import (
    admin,
    channels,
    commands,
    console,
    data_rights,
    health,
    home,
    miniapp,
    ml,
    posts,
    rules,
    training,
    users,
)
from ppb.http.auth import APIKeyMiddleware
from ppb.http.database import ConnectionPerRequestMiddleware
from ppb.http.errors import exception_handlers
from ppb.http.guards import BodyLimit, JSONBodies, TrustedHosts
from ppb.http.metrics import MetricsMiddleware, metrics_endpoint
from ppb.http.openapi import build_openapi, openapi_endpoint
from ppb.http.routing import one_route_per_path
from ppb.http.services import Services
from ppb.scraper.startup import start_content, stop_content

EMBEDDER_STOP_S = 30.0
"""How long a stopping app waits for its embedder's batch under way."""
JSON_PREFIXES = ("/api/", "/sandbox/api/", "/telegram/")
ONE_TRIP_PATHS = (posts.RATE_PATH,)
"""Routes whose work is one trip to the database, so they hold no connection per request."""


def build_app(settings: Settings, services: Services, *, settle: bool = False) -> Starlette:
    """The app over `services` (built by the composition root); with `settle` (the app of a
    long-running server process), what its start-up built is frozen out of the collector's
    walks once started (`ppb/heap.py`)."""
    logsafe.install()  # Serve's access log would show the sandbox's /bot<token>/ paths

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await services.store.connect()
        await start_content(services.settings, services.store, services.scraper)
        embedding = asyncio.ensure_future(services.embedder.run()) if services.embedder else None
        if settle:  # full collections walked ~300k objects of start-up, stopping the loop on busy routes
            heap.settle()
        try:
            yield
        finally:
            if embedding is not None:  # ends after its batch: cancelled mid-query, a connection is lost
                services.embedder.stop()
                try:
                    await asyncio.wait_for(asyncio.shield(embedding), EMBEDDER_STOP_S)
                except TimeoutError:
                    embedding.cancel()
                    await asyncio.gather(embedding, return_exceptions=True)
            await stop_content(services.scraper)
            await services.store.disconnect()

    api_key = settings.api_key.get_secret_value() if settings.api_key else None
    protected = ("/api/v1/",)
    if settings.use_sandbox and not is_loopback(settings.http_host):
        protected += ("/sandbox/api/",)  # acting as anyone needs the key off loopback
    app = Starlette(
        routes=[
            home.home_route(settings),
            *health.routes,
            posts.rating_route,
            Route("/metrics", metrics_endpoint, methods=["GET"]),
            Route("/openapi.json", openapi_endpoint, methods=["GET"]),
            # The hottest routes first: Starlette, and Serve's lookup of the route's name for its
            # metrics, try the routes in order on every request. The rating stands above
            # (`posts.rating_route`); the posts routes, the feed among them, lead the Mount.
            Mount("/api/v1", routes=one_route_per_path([
                *posts.routes, *users.routes, *rules.routes, *data_rights.routes, *training.routes, *channels.routes,
                *ml.routes, *commands.routes, miniapp.api_mount(settings), admin.admin_mount(settings, services.store)])),
            miniapp.static_mount(),
            console.static_mount(),
        ],
        middleware=[
            Middleware(MetricsMiddleware),
            Middleware(TrustedHosts, allowed_hosts=settings.trusted_hosts),
            Middleware(BodyLimit, max_bytes=settings.max_body_bytes),
            Middleware(JSONBodies, prefixes=JSON_PREFIXES),
            Middleware(
                APIKeyMiddleware,
                api_key=api_key,
                protected=protected,
                exempt=("/api/v1/miniapp/", "/api/v1/admin/"),  # admin: admin_auth.py
            ),
            Middleware(ConnectionPerRequestMiddleware, store=services.store, skip=ONE_TRIP_PATHS),
        ],
        exception_handlers=exception_handlers(),  # type: ignore[arg-type]
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.openapi = build_openapi()
    return app
