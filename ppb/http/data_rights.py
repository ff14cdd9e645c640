"""The person's data rights over REST: `GET /users/{telegram_id}/export` (their data as one
JSON document) and `DELETE /users/{telegram_id}` (erased from every table and from Redis)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ppb.config import Settings
from ppb.core import data_rights
from ppb.http.body import path_int
from ppb.http.services import Services
from ppb.store.base import utcnow


def _services(request: Request) -> Services:
    return request.app.state.services


async def erase_redis(settings: Settings, telegram_id: int) -> int:
    """Drop the person's chat registry and bot FSM keys from Redis; returns the keys removed.

    Shards that hold the chat in memory are told by the bot (`Registry.forget`); this is
    what is left in Redis whoever erased the person (the bot, the API, an operator).
    """
    url = settings.redis_url_value
    if not url:
        return 0
    import redis.asyncio as redis

    client = redis.Redis.from_url(url)
    try:
        keys = [f"ppb:chat:{telegram_id}".encode()]
        async for key in client.scan_iter(match=f"ppb:fsm:*:{telegram_id}:{telegram_id}:*", count=500):
            keys.append(key)
        return int(await client.delete(*keys))
    finally:
        await client.aclose()


async def erase_person(settings: Settings, services: Services, telegram_id: int) -> dict[str, int]:
    """Erase from every table, then from Redis; the rows (and keys) removed."""
    removed = await data_rights.erase(services.store, telegram_id)
    removed["redis_keys"] = await erase_redis(settings, telegram_id)
    return removed


async def export(request: Request) -> Response:
    from ppb.http.admin_io import out

    return out(await data_rights.export(_services(request).store, path_int(request, "telegram_id"), utcnow()))


async def delete(request: Request) -> Response:
    services = _services(request)
    await erase_person(services.settings, services, path_int(request, "telegram_id"))
    return Response(status_code=204)


routes = [
    Route("/users/{telegram_id}/export", export, methods=["GET"]),
    Route("/users/{telegram_id}", delete, methods=["DELETE"]),
]
