"""Reading a JSON body into a schema: 400 for broken JSON, 422 naming the wrong field."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TypeVar

import orjson
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message

ModelT = TypeVar("ModelT", bound=BaseModel)
NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")


def field_path(loc: tuple[int | str, ...]) -> str:
    """('posts', 0, 'posted_at') -> 'posts[0].posted_at'."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "body"


def describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors(include_url=False):
        loc = tuple(part for part in item["loc"] if part not in ("json-str", "json-or-python"))
        message = item["msg"]
        if item["type"] == "missing":
            message = "is required"
        parts.append(f"{field_path(loc)}: {message}")
    return "; ".join(parts)


async def read_body(request: Request) -> bytes:
    """The request's body. A small body comes whole in the first ASGI message, taken as it is;
    otherwise Starlette's `Request.body()` reads the rest, the first message handed back to it
    first (Starlette's stream is an async generator per request: a few microseconds that the
    rating, the hottest route, would pay on every call)."""
    message = await request.receive()
    if message["type"] == "http.request" and not message.get("more_body", False):
        return message.get("body", b"")  # type: ignore[no-any-return]
    given = False

    async def replay() -> Message:
        nonlocal given
        if given:
            return await request.receive()
        given = True
        return message

    return await Request(request.scope, replay).body()


async def parse_body(request: Request, model: type[ModelT]) -> ModelT:
    """The body as `model`, parsed once; a body the model refuses is parsed again only to
    say why (400 for JSON that is broken or not an object, else 422 naming the field).
    Read once: a route that parses its body does not read it again."""
    raw = await read_body(request)
    if not raw.strip():
        raise HTTPException(400, "body: a JSON object is required")
    try:
        return model.model_validate_json(raw)
    except ValidationError as error:
        refused = error
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise HTTPException(400, f"body: invalid JSON ({error})") from None
    if not isinstance(data, dict):
        raise HTTPException(400, f"body: expected a JSON object, got {type(data).__name__}")
    raise HTTPException(422, describe(refused)) from None


def parse_query(request: Request, model: type[ModelT]) -> ModelT:
    """The query string as `model`; 422 naming the parameter."""
    try:
        return model.model_validate(dict(request.query_params), strict=False)
    except ValidationError as error:
        raise HTTPException(422, describe(error)) from None


def path_int(request: Request, name: str) -> int:
    """An integer path parameter: a number without a fraction, as JSON Schema counts them
    (`42`, `42.0`, `4.2e1`); not `+5`, ` 5` or `5_000`, which `int` would read."""
    raw = request.path_params[name]
    number = Decimal(raw) if NUMBER.fullmatch(raw) else None
    if number is None or number != number.to_integral_value():
        raise HTTPException(422, f"{name}: {raw!r} is not an integer")
    if abs(number.adjusted()) > 30:
        raise HTTPException(422, f"{name}: out of range")
    value = int(number)
    if not -(2**63) <= value < 2**63:
        raise HTTPException(422, f"{name}: out of range")
    return value


def reply(model: BaseModel, status_code: int = 200) -> Response:
    return Response(model.model_dump_json(), status_code=status_code, media_type="application/json")
