"""Who may use `/api/v1/admin/…`: a service call with `X-API-Key`, or the console with the
session cookie it got for that key. Cookie calls that change anything must also send the
session's CSRF token as `X-CSRF-Token` (a page on another site can neither read it nor set
the header); the cookie is `HttpOnly` and `SameSite=Strict`.

Without `PPB_API_KEY` the admin API is closed: there is nothing to log in with.
"""

from __future__ import annotations

import hmac
from typing import Annotated

import orjson
from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from ppb.http.admin_io import services as app_services
from ppb.http.body import parse_body
from ppb.http.errors import error_response
from ppb.http.schemas import Body
from ppb.store.admin import Admin
from ppb.store.queries import Store

COOKIE = "ppb_console"
COOKIE_PATH = "/api/v1/admin"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LOGIN_PATH = "/api/v1/admin/session"


class Login(Body):
    api_key: Annotated[str, Field(min_length=1, max_length=512)]
    operator: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f-\x9f<>]+$")] = "operator"
    """The operator's name as the log shows it: any but control characters and angle brackets."""


def _cookie(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"cookie":
            for part in value.decode("latin-1").split(";"):
                key, _, token = part.strip().partition("=")
                if key == COOKIE and token:
                    return token
    return None


class AdminAuthMiddleware:
    """Puts the operator's name in `scope["state"]["admin"]`, or answers 401/403."""

    def __init__(self, app: ASGIApp, *, api_key: str | None, store: Store) -> None:
        self.app = app
        self.api_key = api_key.encode() if api_key else None
        self.admin = Admin(store)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        response, operator = await self._check(scope)
        if response is not None:
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})["admin"] = operator
        await self.app(scope, receive, send)

    async def _check(self, scope: Scope) -> tuple[Response | None, str | None]:
        if self.api_key is None:
            return error_response(403, "PPB_API_KEY: not set, so the admin API and the console are closed; "
                                       "set it (in .env, a long random string) and start PPB again"), None
        if scope["path"] == LOGIN_PATH and scope["method"] == "POST":
            return None, None  # the login itself checks the key in its body
        headers = dict(scope["headers"])
        given = headers.get(b"x-api-key")
        if given is not None:
            if hmac.compare_digest(given, self.api_key):
                return None, "api-key"
            return error_response(401, "X-API-Key: the key is not valid", {"WWW-Authenticate": "APIKey"}), None
        token = _cookie(scope)
        session = await self.admin.session(token) if token else None
        if session is None:
            return error_response(401, "X-API-Key: header or a console session is required",
                                  {"WWW-Authenticate": "APIKey"}), None
        if scope["method"] not in SAFE_METHODS:
            csrf = headers.get(b"x-csrf-token", b"")
            if not hmac.compare_digest(csrf, str(session["csrf_token"]).encode()):
                return error_response(403, "X-CSRF-Token: missing or wrong for this session"), None
        scope.setdefault("state", {})["session_csrf"] = session["csrf_token"]
        return None, str(session["operator"])


def operator(request: Request) -> str:
    """The name admin actions are logged under."""
    return str(request.scope["state"]["admin"])


async def login(request: Request) -> Response:
    """Exchange the API key for a session cookie (and the CSRF token the console sends back)."""
    services = app_services(request)
    body = await parse_body(request, Login)
    key = services.settings.api_key
    assert key is not None  # the middleware closes the admin API without one
    if not hmac.compare_digest(body.api_key.encode(), key.get_secret_value().encode()):
        return error_response(401, "api_key: the key is not valid")
    admin = Admin(services.store)
    ttl = services.settings.console_session_ttl
    token, csrf = await admin.open_session(body.operator, ttl)
    await admin.log(body.operator, "login", None, {})
    response = Response(orjson.dumps({"operator": body.operator, "csrf_token": csrf}), media_type="application/json")
    response.set_cookie(COOKIE, token, max_age=int(ttl), path=COOKIE_PATH, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")
    return response


async def whoami(request: Request) -> Response:
    body = {"operator": operator(request), "csrf_token": request.scope["state"].get("session_csrf")}
    return Response(orjson.dumps(body), media_type="application/json")


async def logout(request: Request) -> Response:
    services = app_services(request)
    token = _cookie(request.scope)
    if token:
        await Admin(services.store).close_session(token)
    response = Response(status_code=204)
    response.delete_cookie(COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict")
    return response
