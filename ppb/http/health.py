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


FAVICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">'
    '<rect width="64" height="64" rx="14" fill="#517da2"/>'
    '<text x="32" y="43" font-family="sans-serif" font-size="30" font-weight="700" '
    'text-anchor="middle" fill="#fff">P</text></svg>'
)


async def favicon(request: Request) -> Response:
    """The tab icon browsers ask every page of the app for (a 404 otherwise)."""
    return Response(FAVICON, media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"})


routes = [
    Route("/favicon.ico", favicon, methods=["GET"]),
    Route("/healthz", healthz, methods=["GET"]),
    Route("/readyz", readyz, methods=["GET"]),
]
