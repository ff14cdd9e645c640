"""Users: registration, lookup, state machine events, their channels and interactions."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ppb.domain.channels import parse_channel
from ppb.domain.errors import DomainError
from ppb.http.body import parse_body, path_int, reply
from ppb.http.schemas import (
    AddUserChannel,
    CreateUser,
    InteractionList,
    UserChannelList,
    UserChannelOut,
    UserEventIn,
    UserOut,
)
from ppb.http.services import Services


def _services(request: Request) -> Services:
    return request.app.state.services


async def create_user(request: Request) -> Response:
    body = await parse_body(request, CreateUser)
    store = _services(request).store
    user, created = await store.upsert_user(
        body.telegram_id, body.username, body.first_name, body.last_name, body.language
    )
    return reply(UserOut.model_validate(user), 201 if created else 200)


async def get_user(request: Request) -> Response:
    user = await _services(request).store.get_user(path_int(request, "telegram_id"))
    return reply(UserOut.model_validate(user))


async def post_event(request: Request) -> Response:
    telegram_id = path_int(request, "telegram_id")
    body = await parse_body(request, UserEventIn)
    user = await _services(request).users.apply(telegram_id, body.event, body.details)
    return reply(UserOut.model_validate(user))


async def list_channels(request: Request) -> Response:
    store = _services(request).store
    user_id = await store.user_id(path_int(request, "telegram_id"))
    rows = await store.list_user_channels(user_id)
    return reply(UserChannelList.model_validate({"channels": rows}))


async def add_channel(request: Request) -> Response:
    services = _services(request)
    store = services.store
    telegram_id = path_int(request, "telegram_id")
    body = await parse_body(request, AddUserChannel)
    try:
        ref = parse_channel(body.channel)
    except DomainError as error:
        raise HTTPException(422, f"channel: {error.detail}") from None
    user = await store.get_user(telegram_id)
    channel = await store.get_channel(ref)
    limit = services.settings.max_bonus_channels
    if body.is_bonus and user["bonus_channels_count"] >= limit:
        linked = await store.list_user_channels(user["id"], channel_id=channel["id"])
        if not linked:  # a channel the user already has takes no bonus slot
            raise HTTPException(409, f"is_bonus: the limit of {limit} bonus channels is reached")
    link, created = await store.add_user_channel(
        user["id"], channel["id"], for_training=body.is_for_training, bonus=body.is_bonus
    )
    return reply(UserChannelOut.model_validate(link), 201 if created else 200)


async def remove_channel(request: Request) -> Response:
    store = _services(request).store
    user_id = await store.user_id(path_int(request, "telegram_id"))
    raw = request.path_params["channel"]
    try:
        ref = parse_channel(raw)
    except DomainError as error:
        raise HTTPException(422, f"channel: {error.detail}") from None
    channel = await store.get_channel(ref)
    if not await store.remove_user_channel(user_id, channel["id"]):
        raise HTTPException(404, f"channel {ref!r} is not one of this user's channels")
    return Response(status_code=204)


async def list_interactions(request: Request) -> Response:
    store = _services(request).store
    user_id = await store.user_id(path_int(request, "telegram_id"))
    rows = await store.list_interactions(user_id)
    return reply(InteractionList.model_validate({"interactions": rows}))


routes = [
    Route("/users/", create_user, methods=["POST"]),
    Route("/users/{telegram_id}", get_user, methods=["GET"]),
    Route("/users/{telegram_id}/events", post_event, methods=["POST"]),
    Route("/users/{telegram_id}/channels", list_channels, methods=["GET"]),
    Route("/users/{telegram_id}/channels", add_channel, methods=["POST"]),
    Route("/users/{telegram_id}/channels/{channel}", remove_channel, methods=["DELETE"]),
    Route("/posts/interactions/{telegram_id}", list_interactions, methods=["GET"]),
]
