"""The sandbox's HTTP side, mounted at `/sandbox`: the Bot API, the person's API, the web chat."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route, Router
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from ppb.config import Settings, sandbox_bot_token
from ppb.domain.init_data import sign_init_data
from ppb.sandbox.emulator import Emulator
from ppb.sandbox.methods import call
from ppb.sandbox.model import BotApiError
from ppb.sandbox.params import parse_body

STATIC = Path(__file__).parent / "static"
BOT_API_PREFIX = "/sandbox/botapi"
MAX_WAIT_S = 25.0


def sandbox_token(settings: Settings) -> str:
    """The token the sandbox answers to and signs with: its own, never BOT_TOKEN."""
    return sandbox_bot_token(settings)


def _json(data: Any, status_code: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status_code, media_type="application/json")


def error_response(status_code: int, detail: str) -> Response:
    """An error as PPB's API words them (`{"detail", "status_code"}`)."""
    return _json({"detail": detail, "status_code": status_code}, status_code)


def bot_api(emulator: Emulator) -> Route:
    async def endpoint(request: Request) -> Response:
        if request.path_params["token"] != emulator.token:
            return _json({"ok": False, "error_code": 401, "description": "Unauthorized"}, 401)
        try:
            params = parse_body(request.headers.get("content-type", ""), await request.body(), request.url.query)
            result = await call(emulator, request.path_params["method"], params)
        except BotApiError as error:
            return _json(error.payload(), error.error_code)
        return _json({"ok": True, "result": result})

    return Route("/bot{token}/{method}", endpoint, methods=["GET", "POST"])


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = orjson.loads(await request.body() or b"{}")
    except orjson.JSONDecodeError:
        body = None
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    return body


def _user_id(request: Request) -> int:
    raw = request.path_params["user_id"]
    if not raw.isdigit() or not 0 < int(raw) < 2**52:
        raise ValueError("user_id: a positive integer is expected")
    return int(raw)


def person_routes(emulator: Emulator, settings: Settings) -> list[Route]:
    async def say(request: Request) -> Response:
        try:
            user_id, body = _user_id(request), await _body(request)
            text = body.get("text")
            if not isinstance(text, str) or not text.strip() or len(text) > 4096:
                raise ValueError("text: 1 to 4096 characters are expected")
        except ValueError as error:
            return error_response(422, str(error))
        who = {key: body.get(key) for key in ("first_name", "username", "language_code")}
        who = {key: str(value)[:64] for key, value in who.items() if value}
        return _json(emulator.person_says(user_id, text, **who), 201)

    async def press(request: Request) -> Response:
        try:
            user_id, body = _user_id(request), await _body(request)
            message_id, data = body.get("message_id"), body.get("data")
            if not isinstance(message_id, int) or not isinstance(data, str):
                raise ValueError("message_id (integer) and data (string) are expected")
            return _json(emulator.person_presses(user_id, message_id, data), 201)
        except LookupError as error:
            return error_response(404, str(error))
        except ValueError as error:
            return error_response(422, str(error))

    async def view(request: Request) -> Response:
        try:
            user_id = _user_id(request)
        except ValueError as error:
            return error_response(422, str(error))
        after = request.query_params.get("after_version")
        chat = emulator.chats.get(user_id)
        if after is not None and after.isdigit() and chat is not None:
            await chat.wait_change(int(after), MAX_WAIT_S)
        return _json(emulator.person_view(user_id))

    async def webapp(request: Request) -> Response:
        """The Mini App's address with initData signed for this person, as Telegram opens it."""
        try:
            user_id = _user_id(request)
        except ValueError as error:
            return error_response(422, str(error))
        url = request.query_params.get("url") or settings.miniapp_url or "/miniapp/"
        chat = emulator.person_chat(user_id)
        init_data = sign_init_data(emulator.token, chat.person.user(), query_id=f"sandbox-{user_id}")
        fragment = f"tgWebAppData={quote(init_data, safe='')}&tgWebAppVersion=7.0&tgWebAppPlatform=web"
        return _json({"url": f"{url.split('#')[0]}#{fragment}", "init_data": init_data})

    async def info(request: Request) -> Response:
        return _json({**emulator.bot_user(), "miniapp_url": settings.miniapp_url or "/miniapp/",
                      "webhook": emulator.webhook_info()})

    async def faults(request: Request) -> Response:
        """Inject failures: `{"outage": bool}` or `{"method", "error_code", "retry_after", "count"}`."""
        if request.method == "DELETE":
            emulator.clear_faults()
            return Response(status_code=204)
        try:
            body = await _body(request)
        except ValueError as error:
            return error_response(422, str(error))
        if "outage" in body:
            emulator.outage = bool(body["outage"])
        if isinstance(body.get("method"), str):
            emulator.inject(body["method"], int(body.get("error_code", 429)),
                            retry_after=body.get("retry_after"), count=int(body.get("count", 1)))
        return _json({"outage": emulator.outage, "faults": len([f for f in emulator.faults if f.count])})

    return [
        Route("/chats/{user_id}", view, methods=["GET"]),
        Route("/chats/{user_id}/messages", say, methods=["POST"]),
        Route("/chats/{user_id}/callbacks", press, methods=["POST"]),
        Route("/chats/{user_id}/webapp", webapp, methods=["GET"]),
        Route("/bot", info, methods=["GET"]),
        Route("/faults", faults, methods=["POST", "DELETE"]),
    ]


async def page(request: Request) -> Response:
    return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})


class SandboxApp:
    """The sandbox as an application of its own: Telegram's stand-in, not part of PPB's
    REST API (so not in /openapi.json; docs/bot.md describes it)."""

    def __init__(self, emulator: Emulator, settings: Settings) -> None:
        self._router = Router(routes=[
            Route("/", page, methods=["GET"]),
            Mount("/botapi", routes=[bot_api(emulator)]),
            Mount("/api", routes=person_routes(emulator, settings)),
            Mount("/static", app=StaticFiles(directory=STATIC)),
        ])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._router(scope, receive, send)


def sandbox_mount(emulator: Emulator, settings: Settings) -> Mount:
    return Mount("/sandbox", app=SandboxApp(emulator, settings))


def mount_sandbox(app: Starlette, settings: Settings) -> Emulator:
    """Add the sandbox to an app (when `settings.use_sandbox`); returns its emulator."""
    emulator = Emulator(sandbox_token(settings))
    app.router.routes.append(sandbox_mount(emulator, settings))
    app.state.sandbox = emulator
    return emulator
