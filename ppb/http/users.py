"""Users: registration, lookup, state machine events, their channels and interactions."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ppb.core.app import Core
from ppb.domain.channels import ChannelName
from ppb.domain.errors import NotYetKnown
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
from ppb.http.services import core_of


async def create_user(request: Request) -> Response:
    body = await parse_body(request, CreateUser)
    user, created = await core_of(request).register(
        body.telegram_id, body.username, body.first_name, body.last_name, body.language
    )
    return reply(UserOut.model_validate(user), 201 if created else 200)


async def get_user(request: Request) -> Response:
    user = await core_of(request).get_user(path_int(request, "telegram_id"))
    return reply(UserOut.model_validate(user))


async def post_event(request: Request) -> Response:
    telegram_id = path_int(request, "telegram_id")
    body = await parse_body(request, UserEventIn)
    user = await core_of(request).event(telegram_id, body.event, body.details)
    return reply(UserOut.model_validate(user))


async def list_channels(request: Request) -> Response:
    rows = await core_of(request).channels(path_int(request, "telegram_id"))
    return reply(UserChannelList.model_validate({"channels": rows}))


async def add_channel(request: Request) -> Response:
    core: Core = core_of(request)
    telegram_id = path_int(request, "telegram_id")
    body = await parse_body(request, AddUserChannel)
    name = ChannelName.parse(body.channel, "channel")
    await core.store.user_id(telegram_id)  # 404 is for the user the path names
    if not await core.store.find_channels([name]):
        raise NotYetKnown(f"channel: PPB has no channel {name!r} yet (scrape, join or import it first)")
    link, created = await core.add_channel(telegram_id, name, for_training=body.is_for_training, bonus=body.is_bonus)
    return reply(UserChannelOut.model_validate(link), 201 if created else 200)


async def remove_channel(request: Request) -> Response:
    telegram_id = path_int(request, "telegram_id")
    name = ChannelName.parse(request.path_params["channel"], "channel")
    await core_of(request).remove_channel(telegram_id, name)
    return Response(status_code=204)


async def list_interactions(request: Request) -> Response:
    rows = await core_of(request).interactions(path_int(request, "telegram_id"))
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
