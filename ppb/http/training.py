"""A person's training (one state for the chat and the Mini App) and the chat's feed pages."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ppb.core import replies, training
from ppb.domain.channels import ChannelName
from ppb.http.body import parse_body, parse_query, path_int, reply
from ppb.http.schemas import ALSO_IN, WHOLE, AlsoIn, Body, ChannelText, Out, UtcDatetime
from ppb.http.services import core_of


class TrainingCard(Out):
    id: int
    channel_title: str
    channel_username: str | None = None
    text: str
    media_type: str
    posted_at: UtcDatetime
    telegram_message_id: int
    url: str | None = None
    html: str | None = None  # the text with its formatting, as Telegram HTML; None: plain text


class TrainingOut(Out):
    """Where the person's training stands; `posts` are the next ones to rate, in order."""

    status: str
    is_trained: bool
    total: int
    done: int
    remaining: int
    can_finish: bool
    ratings_count: int
    skipped: int = 0  # unrated posts left out: their channel's verdict is clear (not in `total`)
    settled: list[str] = []  # those channels' titles, to say why the total is smaller
    posts: list[TrainingCard]


class StartTraining(Body):
    channels: Annotated[list[ChannelText], Field(max_length=50)] | None = None
    posts_per_channel: Annotated[int, Field(ge=1, le=100), WHOLE] | None = None
    append: bool = False
    refresh: bool = False
    """Ask the scraper for the channels' newest posts first (up to 15 s a channel, at once)."""


class FinishTraining(Body):
    pass


class FinishOut(TrainingOut):
    success: bool
    training_time: float


class FeedRequest(Body):
    limit: Annotated[int, Field(ge=1, le=20), WHOLE] = 5


class FeedCard(Out):
    id: int
    text: str
    channel_title: str
    channel_username: str | None = None
    media_type: str | None = None
    url: str | None = None
    relevance_score: float
    from_disliked_channel: bool
    html: str | None = None  # the text with its formatting, as Telegram HTML; None: plain text
    also_in: list[AlsoIn] = Field(default_factory=list, description=ALSO_IN)


class FeedPageOut(Out):
    posts: list[FeedCard]
    others: int  # posts from channels the person turned down, sent because nothing better is left


class StateQuery(Body):
    limit: Annotated[int, Field(ge=1, le=100), WHOLE] = 5


def state_out(state: training.TrainingState, limit: int) -> dict[str, Any]:
    return replies.training_state(state, limit)


async def get_training(request: Request) -> Response:
    query = parse_query(request, StateQuery)
    state = await core_of(request).training_state(path_int(request, "telegram_id"))
    return reply(TrainingOut.model_validate(state_out(state, query.limit)))


async def start_training(request: Request) -> Response:
    """Start (or restart) the person's training; `channels` default to the default channels
    plus the person's own; with `append`, a training going on gets these channels' posts too."""
    telegram_id = path_int(request, "telegram_id")
    body = await parse_body(request, StartTraining)
    names = None if body.channels is None else ChannelName.parse_many(body.channels, "channels")
    state = await core_of(request).start_training(telegram_id, names, per_channel=body.posts_per_channel,
                                                  append=body.append, refresh=body.refresh)
    return reply(TrainingOut.model_validate(state_out(state, 5)))


async def finish_training(request: Request) -> Response:
    telegram_id = path_int(request, "telegram_id")
    await parse_body(request, FinishTraining)
    done = await core_of(request).finish_training(telegram_id)
    return reply(FinishOut.model_validate(replies.finished(done, 5)))


async def feed_page(request: Request) -> Response:
    """The next feed posts for the person's chat: never one sent there before."""
    body = await parse_body(request, FeedRequest)
    page = await core_of(request).feed_page(path_int(request, "telegram_id"), body.limit)
    return reply(FeedPageOut.model_validate(replies.feed_page(page)))


routes = [
    Route("/users/{telegram_id}/training", get_training, methods=["GET"]),
    Route("/users/{telegram_id}/training", start_training, methods=["POST"]),
    Route("/users/{telegram_id}/training/finish", finish_training, methods=["POST"]),
    Route("/users/{telegram_id}/feed", feed_page, methods=["POST"]),
]
