"""Every error leaves as `{"detail": ..., "status_code": N}`; never a 500 for bad input."""

from __future__ import annotations

import logging
import sqlite3

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from ppb.domain.errors import DomainError

log = logging.getLogger("ppb.http")


def error_response(status_code: int, detail: str, headers: dict[str, str] | None = None) -> Response:
    body = orjson.dumps({"detail": detail, "status_code": status_code})
    return Response(body, status_code=status_code, media_type="application/json", headers=headers)


def _database_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean the database cannot be reached (not that a query is wrong)."""
    kinds: list[type[BaseException]] = [ConnectionError, OSError, sqlite3.OperationalError]
    try:
        import asyncpg

        kinds += [
            asyncpg.exceptions.PostgresConnectionError,
            asyncpg.exceptions.InterfaceError,
            asyncpg.exceptions.CannotConnectNowError,
            asyncpg.exceptions.AdminShutdownError,
            asyncpg.exceptions.TooManyConnectionsError,
        ]
    except ImportError:
        pass
    return tuple(kinds)


DATABASE_ERRORS = _database_errors()


async def http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return error_response(exc.status_code, str(exc.detail), dict(exc.headers or {}))


async def domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    return error_response(exc.status_code, exc.detail)


async def database_down(request: Request, exc: Exception) -> Response:
    log.warning("database unavailable: %s", exc)
    return error_response(503, "the database is unavailable; try again shortly", {"Retry-After": "5"})


async def unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return error_response(500, "internal error; it has been logged")


def exception_handlers() -> dict[type[BaseException] | int, object]:
    handlers: dict[type[BaseException] | int, object] = {
        HTTPException: http_exception,
        DomainError: domain_error,
        Exception: unexpected,
    }
    for kind in DATABASE_ERRORS:
        handlers[kind] = database_down
    return handlers
