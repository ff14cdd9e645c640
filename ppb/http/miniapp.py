"""The Mini App: its static files at `/miniapp/` and its API under `/api/v1/miniapp`.

Every API call is made as the user the `Authorization: tma <initData>` header proves;
no user id is ever read from the query or the body.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from aiogram.utils.web_app import WebAppUser
from pydantic import Field
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from ppb.config import Settings
from ppb.core import replies
from ppb.core.ratings import UNRATED
from ppb.core.training import TrainingState
from ppb.domain.explanations import Surface
from ppb.domain.interactions import InteractionType
from ppb.domain.languages import language_code, ui_language
from ppb.domain.timezones import city_name, find_timezone
from ppb.http.body import parse_body, parse_query, reply
from ppb.http.miniapp_auth import (
    InitDataError,
    init_data_from_header,
    miniapp_bot_token,
    verify_init_data,
)
from ppb.http.routing import one_route_per_path
from ppb.http.schemas import WHOLE, Body, ExplainOut, Out, RatingOut, RowId, UserOut, UtcDatetime
from ppb.http.services import core_of, services_of
from ppb.store.queries import Row

STATIC_DIR = Path(__file__).resolve().parent.parent / "miniapp"
SERVED_SUFFIXES = {".html", ".js", ".css", ".svg"}


# schemas -------------------------------------------------------------------------------


class MiniAppUser(UserOut):
    """The user, with the language the app speaks to them in (`en` or `ru`)."""

    ui_language: Literal["en", "ru"]


class MiniAppPost(Out):
    id: int
    channel_title: str
    channel_username: str | None = None
    text: str
    media_type: str | None = None
    posted_at: UtcDatetime | None = None
    telegram_message_id: int | None = None
    url: str | None = None  # the original post, when the channel has a username
    relevance_score: float | None = None
    html: str | None = None  # the text with its formatting, as Telegram HTML; None: plain text


class MiniAppPosts(Out):
    mode: Literal["training", "feed"]
    posts: list[MiniAppPost]
    total: int  # training: the whole training set; feed: the posts sent
    done: int  # training: how many of that set the user has rated already
    status: str | None = None  # the user's status (training: the chat shows the same progress)
    can_finish: bool = False  # training: enough ratings to finish now
    finished: bool = False  # training: no training is going on (done, or never started)
    skipped: int = 0  # training: unrated posts left out, their channel's verdict being clear
    settled: list[str] = []  # training: those channels' titles


class MiniAppProgress(Out):
    """A training after a rating: its numbers, and what left it (a channel's verdict is clear)."""

    total: int
    done: int
    finished: bool
    skipped: int  # unrated posts left out, not in `total`
    settled: list[str]  # the titles of their channels
    dropped: list[int]  # those posts' ids: cards the app no longer deals


class MiniAppRated(RatingOut):
    training: MiniAppProgress | None = None  # during a training


class MiniAppAbout(Out):
    sandbox_url: str | None = None  # the sandbox's web chat, where the app opens signed in


class MiniAppZone(Out):
    zone: str  # an IANA name, what the rules take
    city: str  # its city in the person's language


class MiniAppZones(Out):
    """The zones a place names: one, several (a country whose zones keep different times:
    ask for the city), or none."""

    zones: list[MiniAppZone]


class MiniAppZonesQuery(Body):
    q: Annotated[str, Field(min_length=1, max_length=64)]


class MiniAppExplainQuery(Body):
    post_id: RowId


class MiniAppPostsQuery(Body):
    mode: Literal["training", "feed"] = "training"
    limit: Annotated[int, Field(ge=1, le=100), WHOLE] = 50


class MiniAppRate(Body):
    post_id: RowId
    interaction_type: InteractionType


# helpers -------------------------------------------------------------------------------


def telegram_user(request: Request) -> WebAppUser:
    """The user proven by the request's initData; 401 with the reason otherwise."""
    settings = services_of(request).settings
    try:
        init_data = init_data_from_header(request.headers.get("authorization"))
        return verify_init_data(
            init_data, miniapp_bot_token(settings), max_age=settings.miniapp_auth_max_age
        )
    except InitDataError as error:
        raise HTTPException(401, str(error), {"WWW-Authenticate": "tma"}) from None


def _fit(text: str | None, length: int) -> str | None:
    """Telegram's own (signed) text, made to fit its column; never a reason to refuse."""
    return text.replace("\x00", "")[:length] if text else None


async def _user_row(request: Request, who: WebAppUser) -> Row:
    """The stored user, registered on first sight (as POST /users/ does); opening the app is
    activity, so a churned user is back to active. A blocked user gets a 403."""
    return await core_of(request).open_app(
        who.id, _fit(who.username, 64), _fit(who.first_name, 128), _fit(who.last_name, 128),
        language_code(who.language_code),
    )


post_url = replies.post_url


def _card(row: Row, score: float | None = None) -> MiniAppPost:
    return MiniAppPost.model_validate({**replies.with_url(row), "relevance_score": score})


def _training_posts(state: TrainingState, limit: int) -> MiniAppPosts:
    return MiniAppPosts(
        mode="training", posts=[_card(row) for row in state.cards[:limit]], total=state.total, done=state.done,
        status=state.status, can_finish=state.can_finish, finished=not state.active,
        skipped=len(state.skipped), settled=state.settled,
    )


def _progress(state: TrainingState) -> MiniAppProgress:
    return MiniAppProgress(total=state.total, done=state.done, finished=not state.active, skipped=len(state.skipped),
                           settled=state.settled, dropped=[int(row["id"]) for row in state.skipped])


# routes --------------------------------------------------------------------------------


async def me(request: Request) -> Response:
    who = telegram_user(request)
    user = await _user_row(request, who)
    language = ui_language(user.get("language"), who.language_code)
    return reply(MiniAppUser.model_validate({**user, "ui_language": language}))


async def list_posts(request: Request) -> Response:
    who = telegram_user(request)
    query = parse_query(request, MiniAppPostsQuery)
    user = await _user_row(request, who)
    core = core_of(request)
    if query.mode == "feed":
        ranked = await core.app_feed(user["id"], query.limit)
        cards = [_card(row, round(score, 6)) for row, score in ranked]
        return reply(MiniAppPosts(mode="feed", posts=cards, total=len(cards), done=0))
    return reply(_training_posts(await core.training_for_app(user), query.limit))


async def explain(request: Request) -> Response:
    """Why a feed card is in the initData's user's feed (`POST /posts/explain`)."""
    who = telegram_user(request)
    query = parse_query(request, MiniAppExplainQuery)
    await _user_row(request, who)
    explanation = await core_of(request).explain(who.id, query.post_id, Surface.MINIAPP)
    return reply(ExplainOut.model_validate(replies.explanation(explanation)))


async def finish(request: Request) -> Response:
    """Finish training now (after a few ratings): train the model, complete the training."""
    who = telegram_user(request)
    await _user_row(request, who)
    done = await core_of(request).finish_training(who.id)
    return reply(_training_posts(done.state, 50))


async def rate(request: Request) -> Response:
    who = telegram_user(request)
    body = await parse_body(request, MiniAppRate)
    await _user_row(request, who)
    # The app shows only cards it holds unrated: a rating made in the chat meanwhile is kept
    # (`kept`, and the app says so); the chat's copy of the post shows this one.
    row = await core_of(request).rate(who.id, body.post_id, body.interaction_type, if_rated=UNRATED, mark_chat=True)
    progress = _progress(row["training"]) if row.get("training") is not None else None
    return reply(MiniAppRated.model_validate({**row, "training": progress}))


async def get_rules(request: Request) -> Response:
    """The settings tab: the initData's user's delivery rules."""
    from ppb.core import rules as core_rules
    from ppb.http.rules import rules_out

    user = await _user_row(request, telegram_user(request))
    store = services_of(request).store
    return reply(await rules_out(store, user["id"], await core_rules.read(store, user["id"])))


async def patch_rules(request: Request) -> Response:
    """Change some of the initData's user's rules, as `PATCH /users/{id}/rules` does."""
    from ppb.core import rules as core_rules
    from ppb.http.rules import RulesIn, changes_of, rules_out

    who = telegram_user(request)
    body = await parse_body(request, RulesIn)
    user = await _user_row(request, who)
    store = services_of(request).store
    changes = await changes_of(store, body)
    return reply(await rules_out(store, user["id"], await core_rules.update(store, user["id"], changes)))


async def timezones(request: Request) -> Response:
    """The settings tab's place finder: `?q=Moscow` (a city, a country, an IANA name, `UTC+3`)."""
    who = telegram_user(request)
    query = parse_query(request, MiniAppZonesQuery)
    user = await _user_row(request, who)
    language = ui_language(user.get("language"), who.language_code)
    match = find_timezone(query.q)
    found = (match.zone,) if match.zone is not None else match.choices
    return reply(MiniAppZones(zones=[MiniAppZone(zone=zone, city=city_name(zone, language)) for zone in found]))


async def about(request: Request) -> Response:
    """What the app shows when opened without launch parameters (no sign-in needed)."""
    settings = services_of(request).settings
    return reply(MiniAppAbout(sandbox_url="/sandbox/" if settings.use_sandbox else None))


# wiring --------------------------------------------------------------------------------


class MiniAppFiles(StaticFiles):
    """The app's own files only (html, js, css, svg); nothing else in the folder is served."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        if path not in ("", ".") and Path(path).suffix not in SERVED_SUFFIXES:
            raise HTTPException(404, f"{path}: not part of the Mini App")
        response = await super().get_response(path, scope)
        response.headers.setdefault("Cache-Control", "no-cache")
        return response


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def api_mount(settings: Settings) -> Mount:
    """`/miniapp/...` for the `/api/v1` mount; CORS only for `MINIAPP_URL`'s origin."""
    middleware = []
    if settings.miniapp_url:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=[_origin(settings.miniapp_url)],
                allow_methods=["GET", "POST", "PATCH"],
                allow_headers=["Authorization", "Content-Type"],
                max_age=600,
            )
        )
    return Mount("/miniapp", routes=one_route_per_path(routes), middleware=middleware)


def static_mount() -> Mount:
    return Mount("/miniapp", app=MiniAppFiles(directory=STATIC_DIR, html=True), name="miniapp")


routes = [
    Route("/me", me, methods=["GET"]),
    Route("/posts", list_posts, methods=["GET"]),
    Route("/interactions", rate, methods=["POST"]),
    Route("/explain", explain, methods=["GET"]),
    Route("/training/finish", finish, methods=["POST"]),
    Route("/about", about, methods=["GET"]),
    Route("/rules", get_rules, methods=["GET"]),
    Route("/rules", patch_rules, methods=["PATCH"]),
    Route("/timezones", timezones, methods=["GET"]),
]
