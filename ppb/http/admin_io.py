"""Shared bits of the admin routes: JSON out, query strings in, the services."""

from __future__ import annotations

from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from ppb.http.body import describe
from ppb.http.services import services_of as services

ModelT = TypeVar("ModelT", bound=BaseModel)


__all__ = ["describe", "out", "query", "services"]


def out(data: Any, status_code: int = 200) -> Response:
    """JSON of rows and dicts; stored times are UTC (SQLite hands them back naive)."""
    body = orjson.dumps(data, option=orjson.OPT_NAIVE_UTC | orjson.OPT_NON_STR_KEYS, default=str)
    return Response(body, status_code=status_code, media_type="application/json")


def query(request: Request, model: type[ModelT]) -> ModelT:
    """The query string as `model`; 422 naming the parameter."""
    try:
        return model.model_validate(dict(request.query_params), strict=False)
    except ValidationError as error:
        raise HTTPException(422, describe(error)) from None
