"""Shared bits of the admin routes: JSON out, the services."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from ppb.http.services import services_of as services

__all__ = ["out", "services"]


def out(data: Any, status_code: int = 200) -> Response:
    """JSON of rows and dicts; stored times are UTC (SQLite hands them back naive)."""
    body = orjson.dumps(data, option=orjson.OPT_NAIVE_UTC | orjson.OPT_NON_STR_KEYS, default=str)
    return Response(body, status_code=status_code, media_type="application/json")
