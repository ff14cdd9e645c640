"""`/api/v1/admin/…`: find a user and act on them, mark default channels, read the log.
Every change is logged in `admin_actions` with the operator who made it."""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
from pydantic import Field
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from ppb.config import Settings
from ppb.domain.channels import ChannelName
from ppb.domain.status import UserStatus
from ppb.http import admin_auth, analytics, experiments
from ppb.http.admin_io import out, services
from ppb.http.body import parse_body, parse_query, path_int
from ppb.http.data_rights import erase_redis
from ppb.http.routing import one_route_per_path
from ppb.http.schemas import WHOLE, Body
from ppb.store.admin import Admin, erase_user
from ppb.store.console_schema import experiment_assignments
from ppb.store.queries import Store


class UserQuery(Body):
    search: Annotated[str, Field(max_length=128)] | None = None
    status: UserStatus | None = None
    limit: Annotated[int, Field(ge=1, le=500), WHOLE] = 50
    offset: Annotated[int, Field(ge=0, le=1_000_000), WHOLE] = 0


class BlockIn(Body):
    reason: Annotated[str, Field(max_length=256)] | None = None


class DefaultIn(Body):
    is_default: bool


class ActionQuery(Body):
    limit: Annotated[int, Field(ge=1, le=1000), WHOLE] = 100


def _admin(request: Request) -> Admin:
    return Admin(services(request).store)


async def find_users(request: Request) -> Response:
    params = parse_query(request, UserQuery)
    rows = await _admin(request).find_users(params.search, params.status, params.limit, params.offset)
    return out({"users": rows})


async def _user(request: Request) -> dict:
    return await services(request).store.get_user(path_int(request, "telegram_id"))


async def show_user(request: Request) -> Response:
    """The user, their status history, ratings, channels, block and A/B assignments."""
    store: Store = services(request).store
    user = await _user(request)
    admin = Admin(store)
    assignments = await store.database.fetch_all(
        sa.select(experiment_assignments).where(experiment_assignments.c.user_id == user["id"]))
    return out({
        "user": user,
        "blocked": await admin.blocked(user["id"]),
        "status_history": await store.user_log(user["id"]),
        "ratings": await admin.ratings(user["id"]),
        "channels": await store.list_user_channels(user["id"]),
        "assignments": [dict(r._mapping) for r in assignments],
        "actions": await admin.actions(50, target=f"user:{user['telegram_id']}"),
    })


async def reset_training(request: Request) -> Response:
    """Forget the user's ratings and start their training again (through the state machine)."""
    svc = services(request)
    user = await _user(request)
    admin = Admin(svc.store)
    dropped = await admin.clear_training(user["id"])
    state = await svc.core.start_training(user["telegram_id"])
    await admin.log(admin_auth.operator(request), "user:reset_training", f"user:{user['telegram_id']}",
                    {"ratings_dropped": dropped})
    return out({"user": await svc.store.get_user(user["telegram_id"]), "ratings_dropped": dropped,
                "training_total": state.total})


async def block(request: Request) -> Response:
    user = await _user(request)
    body = await parse_body(request, BlockIn)
    admin = _admin(request)
    changed = await admin.block(user["id"], admin_auth.operator(request), body.reason)
    if changed:
        await admin.log(admin_auth.operator(request), "user:block", f"user:{user['telegram_id']}", {"reason": body.reason})
    return out({"blocked": True, "changed": changed})


async def unblock(request: Request) -> Response:
    user = await _user(request)
    admin = _admin(request)
    changed = await admin.unblock(user["id"])
    if changed:
        await admin.log(admin_auth.operator(request), "user:unblock", f"user:{user['telegram_id']}")
    return out({"blocked": False, "changed": changed})


async def delete_user(request: Request) -> Response:
    """Erase the user from every table (the log keeps who erased which telegram id)."""
    svc = services(request)
    user = await _user(request)
    removed = await erase_user(svc.store, user["id"])
    removed["redis_keys"] = await erase_redis(svc.settings, int(user["telegram_id"]))
    await Admin(svc.store).log(admin_auth.operator(request), "user:delete", f"user:{user['telegram_id']}", removed)
    return Response(status_code=204)


async def set_default(request: Request) -> Response:
    """Mark a channel default (or not): new people train on it. A DEFAULT_CHANNELS one
    cannot be unmarked here (409 naming `is_default`)."""
    svc = services(request)
    name = ChannelName.parse(request.path_params["channel"], "channel")
    body = await parse_body(request, DefaultIn)
    channel = await svc.core.mark_default(name, body.is_default)
    await Admin(svc.store).log(admin_auth.operator(request), "channel:default", f"channel:{channel['telegram_id']}",
                               {"is_default": body.is_default})
    return out(channel)


async def actions(request: Request) -> Response:
    params = parse_query(request, ActionQuery)
    return out({"actions": await _admin(request).actions(params.limit)})


routes = [
    Route("/session", admin_auth.login, methods=["POST"]),
    Route("/session", admin_auth.whoami, methods=["GET"]),
    Route("/session", admin_auth.logout, methods=["DELETE"]),
    Route("/users", find_users, methods=["GET"]),
    Route("/users/{telegram_id}", show_user, methods=["GET"]),
    Route("/users/{telegram_id}", delete_user, methods=["DELETE"]),
    Route("/users/{telegram_id}/reset-training", reset_training, methods=["POST"]),
    Route("/users/{telegram_id}/block", block, methods=["POST"]),
    Route("/users/{telegram_id}/unblock", unblock, methods=["POST"]),
    Route("/channels/{channel}/default", set_default, methods=["POST"]),
    Route("/actions", actions, methods=["GET"]),
    *analytics.routes,
    *experiments.routes,
]


def admin_mount(settings: Settings, store: Store) -> Mount:
    """`/admin/…` for the `/api/v1` mount, behind the API key or a console session."""
    api_key = settings.api_key.get_secret_value() if settings.api_key else None
    return Mount("/admin", routes=one_route_per_path(routes), middleware=[Middleware(admin_auth.AdminAuthMiddleware, api_key=api_key, store=store)])
