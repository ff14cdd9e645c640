"""Every error leaves as `{"detail": ..., "status_code": N}`; never a 500 for bad input."""

from __future__ import annotations

import logging
import sqlite3

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from ppb.domain.errors import Conflict, DomainError, Forbidden, Invalid, NotConfigured, NotFound, Unavailable

log = logging.getLogger("ppb.http")


def error_response(status_code: int, detail: str, headers: dict[str, str] | None = None) -> Response:
    body = orjson.dumps({"detail": detail, "status_code": status_code})
    return Response(body, status_code=status_code, media_type="application/json", headers=headers)


STATUS_OF: dict[type[DomainError], int] = {
    Invalid: 422, NotFound: 404, Conflict: 409, Forbidden: 403,
    NotConfigured: 409,  # no retry mends a part this server runs without
    Unavailable: 503,
}
"""The HTTP status of each kind of domain error (a kind not listed takes its nearest base's)."""


def status_of(error: DomainError) -> int:
    """The status a domain error answers with: its own kind's, else its nearest base's, else 400."""
    for kind in type(error).__mro__:
        status = STATUS_OF.get(kind)
        if status is not None:
            return status
    return 400


SQLITE_UNREACHABLE = ("unable to open database", "disk i/o error", "database is locked")


def _database_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that may mean the database cannot be reached; `is_unreachable` decides."""
    kinds: list[type[BaseException]] = [ConnectionError, OSError, sqlite3.OperationalError]
    try:
        import asyncpg

        kinds += [
            asyncpg.exceptions.PostgresConnectionError,
            asyncpg.exceptions.CannotConnectNowError,
            asyncpg.exceptions.AdminShutdownError,
            asyncpg.exceptions.TooManyConnectionsError,
        ]
    except ImportError:
        pass
    return tuple(kinds)


def _data_errors() -> tuple[type[BaseException], ...]:
    """Values the database refused (too long, out of range, NUL): bad input that the
    schemas should have caught; answered 422, never 500 or a false 503."""
    try:
        import asyncpg
        from asyncpg.exceptions import _base
    except ImportError:
        return ()
    return (asyncpg.exceptions.DataError, _base.DataError)


DATABASE_ERRORS = _database_errors()
DATA_ERRORS = _data_errors()


def is_unreachable(exc: BaseException) -> bool:
    """Only a real connection failure is a 503; "no such table" and the like are bugs."""
    if isinstance(exc, sqlite3.OperationalError):
        return str(exc).lower().startswith(SQLITE_UNREACHABLE)
    return isinstance(exc, DATABASE_ERRORS)


async def http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return error_response(exc.status_code, str(exc.detail), dict(exc.headers or {}))


async def domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    return error_response(status_of(exc), exc.detail)


async def database_down(request: Request, exc: Exception) -> Response:
    if not is_unreachable(exc):
        return await unexpected(request, exc)
    log.warning("database unavailable: %s", type(exc).__name__)
    return error_response(503, "the database is unavailable; try again shortly", {"Retry-After": "5"})


async def data_refused(request: Request, exc: Exception) -> Response:
    log.warning("the database refused a value on %s %s: %s", request.method, request.url.path, exc)
    return error_response(422, "body: a value is too long or out of range for the database")


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
    for kind in DATA_ERRORS:
        handlers[kind] = data_refused
    return handlers
