"""One route per path: the modules declare a route per method, and a path whose methods come
from several routes gets one route answering all of them, so a 405 for another method names
every method the path has in `Allow` (Starlette answers with the first route that matched the
path alone)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

Endpoint = Callable[[Request], Awaitable[Response]]


def by_method(handlers: dict[str, Endpoint]) -> Endpoint:
    """An endpoint that hands the request to the handler of its method (HEAD to GET's)."""

    async def endpoint(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" and "HEAD" not in handlers else request.method
        return await handlers[method](request)

    return endpoint


def one_route_per_path(routes: Sequence[BaseRoute]) -> list[BaseRoute]:
    """`routes` with the plain function routes of each path merged into one, where the first
    of them stood (the order Starlette tries them in is kept); anything else is left as is."""
    handlers: dict[str, dict[str, Endpoint]] = {}
    for route in routes:
        if isinstance(route, Route) and route.methods:
            for method in route.methods - {"HEAD"}:
                if method in handlers.setdefault(route.path, {}):
                    raise ValueError(f"{method} {route.path} is declared twice")
                handlers[route.path][method] = route.endpoint
    merged: list[BaseRoute] = []
    placed: set[str] = set()
    for route in routes:
        if not (isinstance(route, Route) and route.methods):
            merged.append(route)
            continue
        if route.path in placed:
            continue
        placed.add(route.path)
        methods = handlers[route.path]
        if len(methods) == 1:
            merged.append(route)
        else:
            merged.append(Route(route.path, by_method(methods), methods=sorted(methods), name=route.name))
    return merged
