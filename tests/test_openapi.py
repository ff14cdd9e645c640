"""`/openapi.json` describes every route the app serves, and the contract's fields."""

from __future__ import annotations

import httpx
from starlette.routing import Mount, Route

from ppb.compose import http_app as build_app
from ppb.config import load_settings


def served_routes() -> set[tuple[str, str]]:
    app = build_app(load_settings())
    found: set[tuple[str, str]] = set()

    def walk(routes, prefix: str) -> None:
        for route in routes:
            if isinstance(route, Mount):
                walk(route.routes, prefix + route.path)
            elif isinstance(route, Route):
                for method in route.methods or []:
                    if method != "HEAD":
                        found.add((method.lower(), prefix + route.path))

    walk(app.routes, "")
    return found


async def test_every_route_is_documented(api: httpx.AsyncClient) -> None:
    response = await api.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    documented = {(method, path) for path, item in document["paths"].items() for method in item}
    assert served_routes() == documented


async def test_contract_fields_are_in_the_schemas(api: httpx.AsyncClient) -> None:
    schemas = (await api.get("/openapi.json")).json()["components"]["schemas"]
    assert {"id", "telegram_id", "username", "status", "is_trained", "bonus_channels_count"} <= schemas["UserOut"]["properties"].keys()
    assert {"created_count", "post_ids"} <= schemas["BulkPostsOut"]["properties"].keys()
    assert {"success", "message", "training_time"} <= schemas["TrainOut"]["properties"].keys()
    assert {"id", "text", "channel_title", "relevance_score"} <= schemas["BestPost"]["properties"].keys()
    assert set(schemas["RateRequest"]["properties"]["interaction_type"].get("enum", [])) or "$ref" in str(
        schemas["RateRequest"]["properties"]["interaction_type"]
    )
