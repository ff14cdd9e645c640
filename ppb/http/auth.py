"""Service calls carry `X-API-Key`; the key is compared in constant time."""

from __future__ import annotations

import hmac

from starlette.types import ASGIApp, Receive, Scope, Send

from ppb.http.errors import error_response


class APIKeyMiddleware:
    """Guards every path under `protected` except those under `exempt`."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        api_key: str | None,
        protected: tuple[str, ...] = ("/api/v1/",),
        exempt: tuple[str, ...] = ("/api/v1/miniapp/",),
    ) -> None:
        self.app = app
        self.api_key = api_key.encode() if api_key else None
        self.protected = protected
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.api_key is None or not self._guarded(scope["path"]):
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-api-key")
        if given is None:
            response = error_response(401, "X-API-Key: header is required", {"WWW-Authenticate": "APIKey"})
        elif not hmac.compare_digest(given, self.api_key):
            response = error_response(401, "X-API-Key: the key is not valid", {"WWW-Authenticate": "APIKey"})
        else:
            await self.app(scope, receive, send)
            return
        await response(scope, receive, send)

    def _guarded(self, path: str) -> bool:
        return path.startswith(self.protected) and not path.startswith(self.exempt)
