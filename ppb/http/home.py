"""`GET /`: a small page saying what is where (the sandbox chat, the Mini App, the console, the
API's document, health), from the same list `ppb up` prints when it is up."""

from __future__ import annotations

import base64
import hashlib
import html
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from ppb.config import Settings


@dataclass(frozen=True)
class Place:
    """One thing a person can open: its name, its path on this server, a line about it."""

    name: str
    path: str
    about: str
    hint: str = ""
    """What `ppb up` prints beside the address (only what a person must know to open it)."""


def console_about(settings: Settings) -> str:
    if settings.api_key is None:
        return "closed: put PPB_API_KEY=<a long random string> in .env and start PPB again, then sign in with it"
    return "sign in with PPB_API_KEY"


def places(settings: Settings) -> list[Place]:
    """What this instance serves, in the order a newcomer wants it."""
    found = []
    if settings.use_sandbox:
        found.append(Place("Sandbox chat", "/sandbox/", "the bot in a web chat, no Telegram account needed"))
    found += [
        Place("Mini App", "/miniapp/", "the swipe deck; open it from the chat, where it knows who you are"),
        Place("Operators' console", "/console/", console_about(settings),
              console_about(settings) if settings.api_key is None else ""),
        Place("API document", "/openapi.json", "OpenAPI 3.1: every route under /api/v1, with its schemas"),
        Place("Health", "/readyz", "200 when the database answers; /healthz answers while the process lives"),
        Place("Metrics", "/metrics", "Prometheus text format, summed over every process"),
    ]
    return found


STYLE = (
    "body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#222}"
    "h1{font-size:1.5rem}dt{margin-top:.8rem}dd{margin:0;color:#555}a{color:#2a6db0}"
)
CSP = (f"default-src 'none'; style-src 'sha256-{base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()}'; "
       "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


def render(settings: Settings) -> str:
    items = "".join(
        f'<dt><a href="{place.path}">{html.escape(place.name)}</a> <code>{place.path}</code></dt>'
        f"<dd>{html.escape(place.about)}</dd>"
        for place in places(settings)
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>PPB</title><style>{STYLE}</style></head><body>"
        "<h1>PPB — Personalized Post Bot</h1><p>This server answers at:</p>"
        f"<dl>{items}</dl></body></html>"
    )


def home_route(settings: Settings) -> Route:
    page = render(settings).encode()

    async def home(request: Request) -> Response:
        return HTMLResponse(page, headers={"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
                                           "Cache-Control": "no-cache"})

    return Route("/", home, methods=["GET"])
