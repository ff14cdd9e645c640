"""`/openapi.json` describes every route the app serves, and the contract's fields."""

from __future__ import annotations

import httpx
from starlette.routing import Mount, Route

from ppb.compose.web import http_app as build_app
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


async def test_a_method_a_path_lacks_is_405_naming_every_method_it_has(api: httpx.AsyncClient) -> None:
    """The methods of one path are declared on several routes; `Allow` still names them all."""
    document = (await api.get("/openapi.json")).json()
    values = {"{telegram_id}": "1", "{channel}": "@somechannel", "{experiment_id}": "1"}
    wrong = []
    for path, item in document["paths"].items():
        if not path.startswith("/api/"):
            continue
        url = path
        for name, value in values.items():
            url = url.replace(name, value)
        response = await api.request("OPTIONS", url)
        allowed = {method.strip().lower() for method in response.headers.get("allow", "").split(",")} - {"head", ""}
        if response.status_code != 405 or allowed != set(item):
            wrong.append(f"OPTIONS {url}: {response.status_code}, Allow {sorted(allowed)}, documented {sorted(item)}")
    assert wrong == []
