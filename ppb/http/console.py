"""The operators' console's static files at `/console/`: the page itself holds no data
(everything comes from `/api/v1/admin`, behind authentication), and a strict
Content-Security-Policy allows only its own scripts."""

from __future__ import annotations

from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC_DIR = Path(__file__).resolve().parent.parent / "console"
SERVED_SUFFIXES = {".html", ".js", ".css", ".svg", ".txt"}
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


class ConsoleFiles(StaticFiles):
    """The console's own files only; never framed, never cached stale."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        if path not in ("", ".") and Path(path).suffix not in SERVED_SUFFIXES:
            raise HTTPException(404, f"{path}: not part of the console")
        response = await super().get_response(path, scope)
        response.headers.setdefault("Cache-Control", "no-cache")
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response


def static_mount() -> Mount:
    return Mount("/console", app=ConsoleFiles(directory=STATIC_DIR, html=True), name="console")
