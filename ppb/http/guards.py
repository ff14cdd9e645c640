"""Request guards, as pure ASGI middlewares: the Host header, the body's size, JSON bodies.

Each answers in the documented error shape `{"detail": ..., "status_code": N}`.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette._utils import parse_host_header
from starlette.datastructures import Headers
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ppb.http.errors import error_response

BODY_METHODS = {"POST", "PUT", "PATCH"}


class TrustedHosts(TrustedHostMiddleware):
    """Starlette's Host check (patterns like `*.example.org`), answering 400 in our shape.

    A web page on another site cannot reach the API through DNS rebinding: its requests
    carry that site's name as Host.
    """

    def __init__(self, app: ASGIApp, allowed_hosts: Sequence[str] | None = None) -> None:
        super().__init__(app, allowed_hosts=allowed_hosts, www_redirect=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.allow_any or scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        parsed = parse_host_header(Headers(scope=scope).get("host"))
        host = parsed.host.lower().strip("[]") if parsed is not None else ""
        if host and any(
            host == pattern or (pattern.startswith("*") and host.endswith(pattern[1:]))
            for pattern in self.allowed_hosts
        ):
            await self.app(scope, receive, send)
            return
        await error_response(400, "Host: this server does not answer for that host name")(scope, receive, send)


class BodyTooLarge(Exception):
    """Raised into the app when a streamed body passes the limit."""


class BodyLimit:
    """Refuses bodies over `max_bytes` with 413: by Content-Length before reading, and by
    counting while the body streams in (a chunked body has no length)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            await self._refuse(scope, receive, send)
            return
        if "transfer-encoding" not in headers:
            # The HTTP server delivers at most Content-Length bytes, and no body without it:
            # nothing to count (most requests, so no wrapper around their receive and send).
            await self.app(scope, receive, send)
            return
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        detail = f"body: larger than the limit of {self.max_bytes} bytes (PPB_MAX_BODY_BYTES)"
        await error_response(413, detail, {"Connection": "close"})(scope, receive, send)


class JSONBodies:
    """Bodies sent to the paths under `prefixes` must be `application/json` (else 415), so a
    page on another site cannot post a form or `text/plain` that is read as JSON."""

    def __init__(self, app: ASGIApp, *, prefixes: tuple[str, ...]) -> None:
        self.app = app
        self.prefixes = prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS or not scope["path"].startswith(self.prefixes):
            await self.app(scope, receive, send)
            return
        content_type, length, chunked = _body_headers(scope["headers"])
        media_type = content_type.decode("latin-1").split(";", 1)[0].strip().lower()
        has_body = length != b"0" or chunked
        if has_body and media_type != "application/json":
            shown = media_type or "none"
            detail = f"Content-Type: application/json is required (got {shown})"
            if media_type == "application/x-www-form-urlencoded":  # what `curl -d` sends unless told
                detail += "; with curl, send -H 'Content-Type: application/json' (or use --json)"
            await error_response(415, detail)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _body_headers(raw: list[tuple[bytes, bytes]]) -> tuple[bytes, bytes, bool]:
    """Content-Type and Content-Length (the first of each, as `Headers.get` reads them; b""
    and b"0" when absent) and whether a Transfer-Encoding is given, in one pass over the
    raw headers (the rating, the hottest route, passes here on every call)."""
    content_type: bytes | None = None
    length: bytes | None = None
    chunked = False
    for name, value in raw:
        if name == b"content-type":
            content_type = value if content_type is None else content_type
        elif name == b"content-length":
            length = value if length is None else length
        elif name == b"transfer-encoding":
            chunked = True
    return content_type or b"", b"0" if length is None else length, chunked
