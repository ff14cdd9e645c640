"""One database connection per API request, instead of one per query."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from ppb.http.errors import DATABASE_ERRORS, error_response, is_unreachable
from ppb.store.queries import Store


class ConnectionPerRequestMiddleware:
    """Holds a connection for the request's queries (SQLite opens one per query otherwise).

    It sits outside the exception middleware, so a database that cannot be reached is
    answered here with the 503 the routes would give. Paths in `skip` make one trip to the
    database and hold no connection of their own (the rating: `Engine.rate`, `store/engine/`).
    """

    def __init__(self, app: ASGIApp, *, store: Store, prefix: str = "/api/", skip: tuple[str, ...] = ()) -> None:
        self.app = app
        self.store = store
        self.prefix = prefix
        self.skip = frozenset(skip)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix) or scope["path"] in self.skip:
            await self.app(scope, receive, send)
            return
        session = self.store.session()
        try:
            await session.__aenter__()
        except DATABASE_ERRORS as error:
            if not is_unreachable(error):
                raise
            response = error_response(503, "the database is unavailable; try again shortly", {"Retry-After": "5"})
            await response(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            await session.__aexit__(None, None, None)
