"""Channels: register (or refresh) one, list them all."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from starlette.exceptions import HTTPException

from ppb.domain.channels import ChannelRef, parse_channel
from ppb.domain.errors import DomainError
from ppb.http.body import parse_body, reply
from ppb.http.schemas import ChannelList, ChannelOut, CreateChannel


async def create_channel(request: Request) -> Response:
    body = await parse_body(request, CreateChannel)
    store = request.app.state.services.store
    if body.username is not None:
        try:
            if parse_channel(body.username).username is None:
                raise DomainError("a username has letters, not only digits")
        except DomainError as error:
            raise HTTPException(422, f"username: {error.detail}") from None
    existed = await store.find_channels([ChannelRef(telegram_id=body.telegram_id)])
    channel = await store.upsert_channel(body.telegram_id, body.username, body.title, body.is_default)
    return reply(ChannelOut.model_validate(channel), 200 if existed else 201)


async def list_channels(request: Request) -> Response:
    rows = await request.app.state.services.store.list_channels()
    return reply(ChannelList.model_validate({"channels": rows}))


routes = [
    Route("/channels/", create_channel, methods=["POST"]),
    Route("/channels/", list_channels, methods=["GET"]),
]
