"""A person's training (one state for the chat and the Mini App) and the chat's feed pages."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ppb.core import feed, training
from ppb.domain.channels import ChannelRef, parse_channel
from ppb.domain.errors import DomainError
from ppb.http.body import describe, parse_body, path_int, reply
from ppb.http.schemas import Body, Out, Text, UtcDatetime
from ppb.http.services import Services


class TrainingCard(Out):
    id: int
    channel_title: str
    channel_username: str | None = None
    text: str
    media_type: str
    posted_at: UtcDatetime
    telegram_message_id: int
    url: str | None = None


class TrainingOut(Out):
    """Where the person's training stands; `posts` are the next ones to rate, in order."""

    status: str
    is_trained: bool
    total: int
    done: int
    remaining: int
    can_finish: bool
    ratings_count: int
    posts: list[TrainingCard]


class StartTraining(Body):
    channels: Annotated[list[Annotated[Text, Field(max_length=128)]], Field(max_length=50)] | None = None
    posts_per_channel: Annotated[int, Field(ge=1, le=100)] | None = None
    append: bool = False


class FinishTraining(Body):
    pass


class FinishOut(TrainingOut):
    success: bool
    training_time: float


class FeedRequest(Body):
    limit: Annotated[int, Field(ge=1, le=20)] = 5


class FeedCard(Out):
    id: int
    text: str
    channel_title: str
    channel_username: str | None = None
    media_type: str | None = None
    url: str | None = None
    relevance_score: float
    from_disliked_channel: bool


class FeedPageOut(Out):
    posts: list[FeedCard]
    others: int  # posts from channels the person turned down, sent because nothing better is left


class StateQuery(Body):
    limit: Annotated[int, Field(ge=1, le=100)] = 5


def _services(request: Request) -> Services:
    return request.app.state.services


def post_url(username: str | None, message_id: int | None) -> str | None:
    return f"https://t.me/{username}/{message_id}" if username and message_id else None


def state_out(state: training.TrainingState, limit: int) -> dict[str, Any]:
    cards = [{**row, "url": post_url(row.get("channel_username"), row.get("telegram_message_id"))}
             for row in state.cards[:limit]]
    return {"status": state.status, "is_trained": state.is_trained, "total": state.total, "done": state.done,
            "remaining": state.remaining, "can_finish": state.can_finish, "ratings_count": state.ratings_count,
            "posts": cards}


def parse_refs(names: list[str]) -> list[ChannelRef]:
    refs = []
    for index, name in enumerate(names):
        try:
            refs.append(parse_channel(name))
        except DomainError as error:
            raise HTTPException(422, f"channels[{index}]: {error.detail}") from None
    return refs


def defaults(services: Services) -> list[ChannelRef]:
    refs = []
    for name in services.settings.effective_default_channels:
        try:
            refs.append(parse_channel(name))
        except DomainError:
            continue  # a malformed default is the operator's to fix
    return refs


async def get_training(request: Request) -> Response:
    try:
        query = StateQuery.model_validate(dict(request.query_params), strict=False)
    except ValidationError as error:
        raise HTTPException(422, describe(error)) from None
    state = await training.read(_services(request).store, path_int(request, "telegram_id"))
    return reply(TrainingOut.model_validate(state_out(state, query.limit)))


async def start_training(request: Request) -> Response:
    """Start (or restart) the person's training; `channels` default to the default channels
    plus the person's own; with `append`, a training going on gets these channels' posts too."""
    services = _services(request)
    telegram_id = path_int(request, "telegram_id")
    body = await parse_body(request, StartTraining)
    user = await services.store.get_user(telegram_id)
    if body.channels is None:
        refs = await training.default_refs(services.store, user["id"], defaults(services))
    else:
        refs = parse_refs(body.channels)
    per_channel = body.posts_per_channel or services.settings.posts_per_channel
    state = await training.start(services.store, services.users, telegram_id, refs, per_channel,
                                 append=body.append and user["status"] == "training")
    return reply(TrainingOut.model_validate(state_out(state, 5)))


async def finish_training(request: Request) -> Response:
    services = _services(request)
    telegram_id = path_int(request, "telegram_id")
    await parse_body(request, FinishTraining)
    done = await training.finish(services.store, services.users, services.scoring, telegram_id)
    return reply(FinishOut.model_validate(
        {**state_out(done.state, 5), "success": done.success, "training_time": round(done.seconds, 6),
         "ratings_count": done.ratings_count}))


async def feed_page(request: Request) -> Response:
    """The next feed posts for the person's chat: never one sent there before."""
    services = _services(request)
    body = await parse_body(request, FeedRequest)
    user_id = await services.store.user_id(path_int(request, "telegram_id"))
    page = await feed.next_page(services.store, services.feed, user_id, body.limit)
    good = len(page.posts) - page.others
    cards = [{**row, "relevance_score": round(score, 6), "from_disliked_channel": index >= good,
              "url": post_url(row.get("channel_username"), row.get("telegram_message_id"))}
             for index, (row, score) in enumerate(page.posts)]
    return reply(FeedPageOut.model_validate({"posts": cards, "others": page.others}))


routes = [
    Route("/users/{telegram_id}/training", get_training, methods=["GET"]),
    Route("/users/{telegram_id}/training", start_training, methods=["POST"]),
    Route("/users/{telegram_id}/training/finish", finish_training, methods=["POST"]),
    Route("/users/{telegram_id}/feed", feed_page, methods=["POST"]),
]
