"""`/metrics` and the middleware that counts requests and their latency by route template.

The figures go through `ppb.metrics`: Ray's metrics inside a replica, so `/metrics` answers
the whole application (every replica and node summed), whichever replica serves it."""

from __future__ import annotations

import time

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ppb import metrics


class MetricsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = _route_template(scope)
            method = scope["method"]
            metrics.record("ppb_http_requests_total", method=method, route=route, status=str(status))
            metrics.record("ppb_http_request_seconds", time.perf_counter() - started, method=method, route=route)


def _route_template(scope: Scope) -> str:
    """The matched route's path template (ids would explode label cardinality)."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if path is None:
        return "unmatched"
    return scope.get("root_path", "") + path


async def metrics_endpoint(request: Request) -> Response:
    """The whole application's figures under Ray; this process's outside it."""
    if metrics.in_ray_worker():
        return Response(await metrics.cluster_text(), media_type=CONTENT_TYPE_LATEST)
    return Response(metrics.local_text(), media_type=CONTENT_TYPE_LATEST)
