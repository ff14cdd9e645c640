"""The OpenAPI document, built from the same pydantic schemas the routes use."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ppb import __version__
from ppb.domain.channels import CHANNEL_PATTERN
from ppb.domain.channels import MAX_LENGTH as CHANNEL_MAX_LENGTH
from ppb.http import admin, admin_auth, analytics, commands, experiments, miniapp, rules, training
from ppb.http import schemas as s


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    request: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    errors: tuple[int, ...] = (400, 401, 422, 503)
    extra: dict[int, str] = field(default_factory=dict)
    public: bool = False
    auth: str = "APIKey"  # the security scheme: APIKey, or MiniApp (Authorization: tma <initData>)
    notes: dict[int, str] = field(default_factory=dict)
    """What an error status means here, where "Error" would not say enough."""
    query: type[BaseModel] | None = None
    """The model the query string is read into (each field a query parameter)."""


API = "/api/v1"
BLOCKED_NOTE = "The user is blocked by an operator (the console): no feed, no Mini App"
PRIVATE_NOTE = "The channel is private: PPB cannot read it"
SCRAPER_DOWN_NOTE = ("The scraper cannot serve now: Telegram unreachable, or its session no longer accepted "
                     "(the detail names the fix)")
NO_SCRAPER_NOTE = ("No scraper is configured on this server (the detail starts `scraper: not configured` and names the "
                   "settings); no retry mends it")
BODY_ERRORS = (413, 415)  # a body over PPB_MAX_BODY_BYTES; a body that is not application/json
PATH_SCHEMAS: dict[str, dict[str, Any]] = {
    "telegram_id": {"type": "integer", "format": "int64", "minimum": -(2**63), "maximum": 2**63 - 1},
    "channel": {"type": "string", "maxLength": CHANNEL_MAX_LENGTH, "pattern": CHANNEL_PATTERN},
    "experiment_id": {"type": "integer", "format": "int64", "minimum": -(2**63), "maximum": 2**63 - 1},
}
ADMIN = f"{API}/admin"
CONSOLE = "APIKey|ConsoleSession"
ADMIN_OPERATIONS: list[Operation] = [
    Operation("POST", f"{ADMIN}/session", "Console login: the API key for an HttpOnly session cookie and a CSRF token", admin_auth.Login, None, errors=(400, 401, 403, 422, 503), public=True),
    Operation("GET", f"{ADMIN}/session", "The console session's operator and CSRF token", errors=(401, 403, 503), auth=CONSOLE),
    Operation("DELETE", f"{ADMIN}/session", "Console logout", None, None, 204, errors=(401, 403, 503), auth=CONSOLE),
    Operation("GET", f"{ADMIN}/users", "Find users: ?search=&status=&limit=&offset=", errors=(401, 403, 422, 503), auth=CONSOLE, query=admin.UserQuery),
    Operation("GET", f"{ADMIN}/users/{{telegram_id}}", "A user with status history, ratings, channels, block, assignments", errors=(401, 403, 404, 422, 503), auth=CONSOLE),
    Operation("DELETE", f"{ADMIN}/users/{{telegram_id}}", "Erase the user from every table", None, None, 204, errors=(401, 403, 404, 422, 503), auth=CONSOLE),
    Operation("POST", f"{ADMIN}/users/{{telegram_id}}/reset-training", "Forget the user's ratings and start training again", errors=(401, 403, 404, 409, 422, 503), auth=CONSOLE),
    Operation("POST", f"{ADMIN}/users/{{telegram_id}}/block", "Block the user: no feed, no nudges", admin.BlockIn, None, errors=(400, 401, 403, 404, 422, 503), auth=CONSOLE),
    Operation("POST", f"{ADMIN}/users/{{telegram_id}}/unblock", "Unblock the user", errors=(401, 403, 404, 422, 503), auth=CONSOLE),
    Operation("POST", f"{ADMIN}/channels/{{channel}}/default", "Mark a channel default, or not", admin.DefaultIn, None, errors=(400, 401, 403, 404, 409, 422, 503), auth=CONSOLE,
              notes={409: "A channel default by the DEFAULT_CHANNELS setting cannot be unmarked here"}),
    Operation("GET", f"{ADMIN}/actions", "The admin action log, newest first: ?limit=", errors=(401, 403, 422, 503), auth=CONSOLE, query=admin.ActionQuery),
    Operation("GET", f"{ADMIN}/analytics/overview", "Funnel, actives, like rate of feed posts, training, nudges, reasons given: ?days=", errors=(401, 403, 422, 503), auth=CONSOLE, query=analytics.Window),
    Operation("GET", f"{ADMIN}/analytics/funnel", "Users by status and the funnel's conversions", errors=(401, 403, 503), auth=CONSOLE),
    Operation("GET", f"{ADMIN}/analytics/active", "Active users per day or week: ?days=&period=day|week", errors=(401, 403, 422, 503), auth=CONSOLE, query=analytics.Window),
    Operation("GET", f"{ADMIN}/analytics/ratings", "Ratings per day and the like rate of feed posts: ?days=", errors=(401, 403, 422, 503), auth=CONSOLE, query=analytics.Window),
    Operation("GET", f"{ADMIN}/analytics/training", "Training started, completed, and how long it took", errors=(401, 403, 503), auth=CONSOLE),
    Operation("GET", f"{ADMIN}/analytics/nudges", "Nudges sent and how many brought the person back within a day", errors=(401, 403, 503), auth=CONSOLE),
    Operation("GET", f"{ADMIN}/analytics/reasons", "Explanations given: how often each reason led, and the like rate of feed posts rated after asking why against the rest: ?days=", errors=(401, 403, 422, 503), auth=CONSOLE, query=analytics.Window),
    Operation("GET", f"{ADMIN}/analytics/channels", "Channels: followers, posts, like rate: ?search=&limit=&offset=", errors=(401, 403, 422, 503), auth=CONSOLE, query=analytics.ChannelQuery),
    Operation("GET", f"{ADMIN}/experiments", "A/B tests of ranking variants", errors=(401, 403, 503), auth=CONSOLE),
    Operation("POST", f"{ADMIN}/experiments", "Create an experiment (optionally started)", experiments.NewExperiment, None, 201, errors=(400, 401, 403, 409, 422, 503), auth=CONSOLE),
    Operation("GET", f"{ADMIN}/experiments/settings", "The ranking settings a variant may change: name, meaning, bounds, the default model's value", errors=(401, 403, 503), auth=CONSOLE),
    Operation("GET", f"{ADMIN}/experiments/{{experiment_id}}", "An experiment with its results per variant", errors=(401, 403, 404, 422, 503), auth=CONSOLE),
    Operation("POST", f"{ADMIN}/experiments/{{experiment_id}}/start", "Start an experiment (one runs at a time)", errors=(401, 403, 404, 409, 422, 503), auth=CONSOLE),
    Operation("POST", f"{ADMIN}/experiments/{{experiment_id}}/stop", "Stop an experiment", errors=(401, 403, 404, 409, 422, 503), auth=CONSOLE),
]
OPERATIONS: list[Operation] = [
    Operation("POST", f"{API}/users/", "Register a user (201 new, 200 existing)", s.CreateUser, s.UserOut, 201, extra={200: "Existing user"}),
    Operation("GET", f"{API}/users/{{telegram_id}}", "A user", None, s.UserOut, errors=(401, 404, 422, 503)),
    Operation("POST", f"{API}/users/{{telegram_id}}/events", "Fire a state machine event", s.UserEventIn, s.UserOut, errors=(400, 401, 404, 409, 422, 503)),
    Operation("GET", f"{API}/users/{{telegram_id}}/channels", "The user's channels", None, s.UserChannelList, errors=(401, 404, 422, 503)),
    Operation("POST", f"{API}/users/{{telegram_id}}/channels", "Link a channel to the user (201 new link)", s.AddUserChannel, s.UserChannelOut, 201, errors=(400, 401, 404, 409, 422, 503), extra={200: "Existing link"},
              notes={404: "No such user", 409: "PPB has no such channel yet (scrape, join or import it first), or the bonus channels are used up"}),
    Operation("DELETE", f"{API}/users/{{telegram_id}}/channels/{{channel}}", "Unlink a channel from the user", None, None, 204, errors=(401, 404, 422, 503)),
    Operation("GET", f"{API}/users/{{telegram_id}}/training", "The user's training: progress and the next posts to rate (?limit=N)", None, training.TrainingOut, errors=(401, 404, 422, 503), query=training.StateQuery),
    Operation("POST", f"{API}/users/{{telegram_id}}/training", "Start (or extend) the user's training; channels interleaved", training.StartTraining, training.TrainingOut, errors=(400, 401, 404, 409, 422, 503)),
    Operation("POST", f"{API}/users/{{telegram_id}}/training/finish", "Fit the model now and complete the training", training.FinishTraining, training.FinishOut, errors=(400, 401, 404, 422, 503)),
    Operation("POST", f"{API}/users/{{telegram_id}}/feed", "The next feed posts for the user's chat, never one sent there before", training.FeedRequest, training.FeedPageOut, errors=(400, 401, 403, 404, 422, 503), notes={403: BLOCKED_NOTE}),
    Operation("GET", f"{API}/users/{{telegram_id}}/rules", "The user's delivery rules: mode, digest, time zone, quiet hours, muted words, hide ads, must-see words, channel dials", None, rules.RulesOut, errors=(401, 404, 422, 503)),
    Operation("PATCH", f"{API}/users/{{telegram_id}}/rules", "Change some of the user's delivery rules (fields not sent are kept; channel dials change only the channels named, each one PPB has)", rules.RulesIn, rules.RulesOut, errors=(400, 401, 404, 422, 503)),
    Operation("GET", f"{API}/users/{{telegram_id}}/export", "Everything PPB keeps about the user as one JSON document: profile, rules, channels, ratings, explanations asked for", errors=(401, 404, 422, 503)),
    Operation("DELETE", f"{API}/users/{{telegram_id}}", "Erase the user from every table and from Redis", None, None, 204, errors=(401, 404, 422, 503)),
    Operation("POST", f"{API}/channels/", "Register or refresh a channel (201 new, 200 existing)", s.CreateChannel, s.ChannelOut, 201, errors=(400, 401, 409, 422, 503), extra={200: "Existing channel"}),
    Operation("GET", f"{API}/channels/", "All channels", None, s.ChannelList, errors=(401, 503)),
    Operation("POST", f"{API}/posts/bulk", "Add a channel's posts; re-sent posts are not duplicated", s.BulkPosts, s.BulkPostsOut, errors=(400, 401, 404, 422, 503)),
    Operation("POST", f"{API}/posts/training", "Posts to rate in training; links the channels to the user", s.TrainingRequest, s.TrainingPosts, errors=(400, 401, 404, 422, 503)),
    Operation("POST", f"{API}/posts/interactions", "Rate a post (rating again replaces, unless `if_rated` says the client showed another)", s.RateRequest, s.RatingOut, errors=(400, 401, 404, 422, 503)),
    Operation("GET", f"{API}/posts/interactions/{{telegram_id}}", "The user's ratings", None, s.InteractionList, errors=(401, 404, 422, 503)),
    Operation("POST", f"{API}/posts/explain", "Why a post is where it is in the user's feed: the reasons from the scores that ranked it, strongest first", s.ExplainRequest, s.ExplainOut, errors=(400, 401, 403, 404, 422, 503), notes={403: BLOCKED_NOTE, 404: "No such user, or no such post (the detail names `post_id`)"}),
    Operation("POST", f"{API}/posts/best", "The user's best unrated posts, best first", s.BestRequest, s.BestPosts, errors=(400, 401, 403, 404, 422, 503), notes={403: BLOCKED_NOTE}),
    Operation("POST", f"{API}/ml/train", "Fit the user's model; completes training", s.TrainRequest, s.TrainOut, errors=(400, 401, 404, 422, 503)),
    Operation("POST", f"{API}/cmd/scrape", "Scrape a channel into the store (202 when a FloodWait queued it)", commands.ScrapeRequest, commands.ScrapeOut, errors=(400, 401, 403, 404, 409, 422, 503), extra={202: "Queued behind a FloodWait; Retry-After says how long"},
              notes={403: PRIVATE_NOTE, 409: NO_SCRAPER_NOTE, 503: SCRAPER_DOWN_NOTE}),
    Operation("POST", f"{API}/cmd/join", "Join a channel so its new posts arrive (202 when a FloodWait queued it)", commands.JoinRequest, commands.JoinOut, errors=(400, 401, 403, 404, 409, 422, 503), extra={202: "Queued behind a FloodWait; Retry-After says how long"},
              notes={403: PRIVATE_NOTE, 409: NO_SCRAPER_NOTE + "; or the scraper watches PPB_SCRAPER_MAX_CHANNELS channels already",
                     503: SCRAPER_DOWN_NOTE}),
    Operation("GET", f"{API}/miniapp/me", "The Mini App's user (from initData), registered on first visit", None, miniapp.MiniAppUser, errors=(401, 403, 503), auth="MiniApp", notes={403: BLOCKED_NOTE}),
    Operation("GET", f"{API}/miniapp/posts", "Cards to rate: ?mode=training|feed&limit=N", None, miniapp.MiniAppPosts, errors=(401, 403, 422, 503), auth="MiniApp", notes={403: BLOCKED_NOTE}, query=miniapp.MiniAppPostsQuery),
    Operation("POST", f"{API}/miniapp/interactions", "Rate a post as the initData's user (re-sending is harmless; a rating made in the chat meanwhile is kept)", miniapp.MiniAppRate, miniapp.MiniAppRated, errors=(400, 401, 403, 404, 422, 503), auth="MiniApp", notes={403: BLOCKED_NOTE}),
    Operation("GET", f"{API}/miniapp/explain", "Why a feed card is in the initData's user's feed: ?post_id=N (as POST /posts/explain)", None, s.ExplainOut, errors=(401, 403, 404, 422, 503), auth="MiniApp", notes={403: BLOCKED_NOTE}, query=miniapp.MiniAppExplainQuery),
    Operation("POST", f"{API}/miniapp/training/finish", "Finish training now as the initData's user: fits the model, completes the training", None, miniapp.MiniAppPosts, errors=(401, 403, 404, 503), auth="MiniApp", notes={403: BLOCKED_NOTE}),
    Operation("GET", f"{API}/miniapp/rules", "The initData's user's delivery rules (the settings tab)", None, rules.RulesOut, errors=(401, 403, 503), auth="MiniApp", notes={403: BLOCKED_NOTE}),
    Operation("PATCH", f"{API}/miniapp/rules", "Change some of the initData's user's delivery rules", rules.RulesIn, rules.RulesOut, errors=(400, 401, 403, 422, 503), auth="MiniApp", notes={403: BLOCKED_NOTE}),
    Operation("GET", f"{API}/miniapp/timezones", "The time zones a place names, for the settings tab: ?q=Moscow (a city, a country, an IANA name or an offset such as UTC+3); several for a country whose zones keep different times, none for an unknown place", None, miniapp.MiniAppZones, errors=(401, 403, 422, 503), auth="MiniApp", notes={403: BLOCKED_NOTE}, query=miniapp.MiniAppZonesQuery),
    Operation("GET", f"{API}/miniapp/about", "What the app shows when opened without launch parameters", None, miniapp.MiniAppAbout, errors=(), public=True),
    *ADMIN_OPERATIONS,
    Operation("GET", "/", "A page saying what is where on this server (HTML)", errors=(), public=True),
    Operation("GET", "/healthz", "Liveness", public=True),
    Operation("GET", "/favicon.ico", "The app's icon (SVG)", errors=(), public=True),
    Operation("GET", "/readyz", "Readiness: 200 when the API can serve", errors=(503,), public=True),
    Operation("GET", "/metrics", "Prometheus metrics", errors=(), public=True),
    Operation("GET", "/openapi.json", "This document", errors=(), public=True),
]


@dataclass(frozen=True)
class Link:
    """An OpenAPI link: what a response of `source` gives the `target` operation (its path
    parameters, fields of its body), so a client (or a stateful fuzzer) can chain them."""

    source: str  # "METHOD /path"
    statuses: tuple[int, ...]
    target: str
    parameters: dict[str, str] = field(default_factory=dict)
    body: dict[str, str] = field(default_factory=dict)


def operation_id(method: str, path: str) -> str:
    """`post_api_v1_users_telegram_id_events` for `POST /api/v1/users/{telegram_id}/events`."""
    words = "".join(ch if ch.isalnum() else "_" for ch in path).strip("_")
    return f"{method.lower()}_{'_'.join(part for part in words.split('_') if part) or 'root'}"


USER = "$response.body#/telegram_id"
CHANNEL = "$response.body#/telegram_id"
LINKS: list[Link] = [
    *(Link(f"POST {API}/users/", (201, 200), target, {"telegram_id": USER}) for target in (
        f"GET {API}/users/{{telegram_id}}", f"POST {API}/users/{{telegram_id}}/events",
        f"GET {API}/users/{{telegram_id}}/channels", f"POST {API}/users/{{telegram_id}}/channels",
        f"GET {API}/users/{{telegram_id}}/training", f"POST {API}/users/{{telegram_id}}/training",
        f"POST {API}/users/{{telegram_id}}/training/finish", f"POST {API}/users/{{telegram_id}}/feed",
        f"GET {API}/users/{{telegram_id}}/rules", f"PATCH {API}/users/{{telegram_id}}/rules",
        f"GET {API}/users/{{telegram_id}}/export", f"DELETE {API}/users/{{telegram_id}}",
        f"GET {API}/posts/interactions/{{telegram_id}}",
        f"GET {ADMIN}/users/{{telegram_id}}",  # the console's erase is DELETE /users/{telegram_id} by another path
        f"POST {ADMIN}/users/{{telegram_id}}/reset-training", f"POST {ADMIN}/users/{{telegram_id}}/block",
        f"POST {ADMIN}/users/{{telegram_id}}/unblock")),
    *(Link(f"POST {API}/users/", (201, 200), target, body={"user_telegram_id": USER}) for target in (
        f"POST {API}/posts/training", f"POST {API}/posts/interactions", f"POST {API}/posts/best", f"POST {API}/posts/explain", f"POST {API}/ml/train")),
    Link(f"POST {API}/channels/", (201, 200), f"POST {API}/posts/bulk", body={"channel_telegram_id": CHANNEL}),
    Link(f"POST {API}/channels/", (201, 200), f"POST {ADMIN}/channels/{{channel}}/default", {"channel": CHANNEL}),
    Link(f"POST {API}/users/{{telegram_id}}/channels", (201, 200), f"DELETE {API}/users/{{telegram_id}}/channels/{{channel}}",
         {"telegram_id": "$request.path.telegram_id", "channel": CHANNEL}),
    Link(f"POST {API}/posts/bulk", (200,), f"POST {API}/posts/interactions", body={"post_id": "$response.body#/post_ids/0"}),
    Link(f"POST {API}/posts/bulk", (200,), f"POST {API}/posts/explain", body={"post_id": "$response.body#/post_ids/0"}),
    Link(f"POST {API}/posts/interactions", (200,), f"GET {API}/posts/interactions/{{telegram_id}}",
         {"telegram_id": "$request.body#/user_telegram_id"}),
    Link(f"POST {API}/posts/bulk", (200,), f"POST {API}/miniapp/interactions", body={"post_id": "$response.body#/post_ids/0"}),
    *(Link(f"POST {ADMIN}/experiments", (201,), target, {"experiment_id": "$response.body#/id"}) for target in (
        f"GET {ADMIN}/experiments/{{experiment_id}}", f"POST {ADMIN}/experiments/{{experiment_id}}/start",
        f"POST {ADMIN}/experiments/{{experiment_id}}/stop")),
]


def _links(paths: dict[str, dict[str, Any]], links: list[Link]) -> None:
    """Put each link on its source's responses, naming the target by its operationId."""
    for link in links:
        method, path = link.source.split(" ", 1)
        target_method, target_path = link.target.split(" ", 1)
        target = paths[target_path][target_method.lower()]
        definition: dict[str, Any] = {"operationId": target["operationId"]}
        if link.parameters:
            definition["parameters"] = dict(link.parameters)
        if link.body:
            definition["requestBody"] = dict(link.body)
        name = target["operationId"]
        for status in link.statuses:
            paths[path][method.lower()]["responses"][str(status)].setdefault("links", {})[name] = definition


def _present(spec: dict[str, Any]) -> dict[str, Any]:
    """A query parameter's schema: a query string cannot say null, so the null option goes."""
    options = [option for option in spec.get("anyOf", []) if option.get("type") != "null"]
    if len(options) != 1:
        return spec
    return {**{key: value for key, value in spec.items() if key not in ("anyOf", "default")}, **options[0]}


def _json(ref: str | None, description: str) -> dict[str, Any]:
    if ref is None:
        return {"description": description}
    return {"description": description, "content": {"application/json": {"schema": {"$ref": ref}}}}


def build_openapi(operations: list[Operation] = OPERATIONS) -> dict[str, Any]:
    inbound = {m for op in operations for m in (op.request, op.query) if m}
    models = {m for op in operations for m in (op.request, op.response, op.query) if m} | {s.ErrorOut}
    pairs = [(m, "validation" if m in inbound else "serialization") for m in models]
    refs, schema = models_json_schema(pairs, ref_template="#/components/schemas/{model}")
    paths: dict[str, dict[str, Any]] = {}
    error_ref = refs[(s.ErrorOut, "serialization")]["$ref"]
    for op in operations:
        item: dict[str, Any] = {"operationId": operation_id(op.method, op.path), "summary": op.summary, "responses": {}}
        params = [
            {"name": name, "in": "path", "required": True, "schema": PATH_SCHEMAS[name]}
            for name in ("telegram_id", "channel", "experiment_id")
            if "{" + name + "}" in op.path
        ]
        if op.query:
            definition = schema["$defs"][refs[(op.query, "validation")]["$ref"].rsplit("/", 1)[1]]
            params += [{"name": name, "in": "query", "required": name in definition.get("required", ()),
                        "schema": _present(spec)} for name, spec in definition["properties"].items()]
        if params:
            item["parameters"] = params
        if op.request:
            ref = refs[(op.request, "validation")]["$ref"]
            item["requestBody"] = {"required": True, "content": {"application/json": {"schema": {"$ref": ref}}}}
        ok_ref = refs[(op.response, "serialization")]["$ref"] if op.response else None
        item["responses"][str(op.status)] = _json(ok_ref, "Success")
        for status, text in op.extra.items():
            item["responses"][str(status)] = _json(ok_ref, text)
        for status in op.errors + (BODY_ERRORS if op.request else ()):
            item["responses"][str(status)] = _json(error_ref, op.notes.get(status, "Error"))
        if not op.public:
            item["security"] = [{scheme: []} for scheme in op.auth.split("|")]
        paths.setdefault(op.path, {})[op.method.lower()] = item
    _links(paths, [link for link in LINKS if _has(paths, link.source) and _has(paths, link.target)])
    return {
        "openapi": "3.1.0",
        "info": {"title": "PPB API", "version": __version__},
        "paths": paths,
        "components": {
            "schemas": {**schema.get("$defs", {}), "JsonValue": s.JSON_VALUE_SCHEMA},
            "securitySchemes": {
                "APIKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                "MiniApp": {"type": "apiKey", "in": "header", "name": "Authorization", "description": "tma <initData>"},
                "ConsoleSession": {"type": "apiKey", "in": "cookie", "name": "ppb_console",
                                   "description": "POST /api/v1/admin/session; changes also need X-CSRF-Token"},
            },
        },
    }


def _has(paths: dict[str, dict[str, Any]], operation: str) -> bool:
    method, path = operation.split(" ", 1)
    return method.lower() in paths.get(path, {})


async def openapi_endpoint(request: Request) -> Response:
    return JSONResponse(request.app.state.openapi)
