"""Channels: register (or refresh) one, list them all."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ppb.domain.channels import ChannelName
from ppb.http.body import parse_body, reply
from ppb.http.schemas import ChannelList, ChannelOut, CreateChannel
from ppb.http.services import services_of


async def create_channel(request: Request) -> Response:
    body = await parse_body(request, CreateChannel)
    store = services_of(request).store
    username = ChannelName.parse_username(body.username, "username").username if body.username is not None else None
    existed = await store.find_channels([ChannelName(telegram_id=body.telegram_id)])
    channel = await store.upsert_channel(body.telegram_id, username, body.title, body.is_default)
    return reply(ChannelOut.model_validate(channel), 200 if existed else 201)


async def list_channels(request: Request) -> Response:
    rows = await services_of(request).store.list_channels()
    return reply(ChannelList.model_validate({"channels": rows}))


routes = [
    Route("/channels/", create_channel, methods=["POST"]),
    Route("/channels/", list_channels, methods=["GET"]),
]
