"""Liveness and readiness."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ppb.http.errors import DATABASE_ERRORS, error_response, is_unreachable


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """Ready when this process can answer API calls: the database answers."""
    try:
        await request.app.state.services.store.ping()
    except DATABASE_ERRORS as error:
        if not is_unreachable(error):
            raise
        return error_response(503, f"not ready: the database is unavailable ({type(error).__name__})")
    return JSONResponse({"status": "ready"})


routes = [
    Route("/healthz", healthz, methods=["GET"]),
    Route("/readyz", readyz, methods=["GET"]),
]
