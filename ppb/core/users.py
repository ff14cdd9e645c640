"""Registering people, moving them through the state machine, and their activity: any sign
of life (a rating, opening the Mini App, an update in the chat) moves `last_activity_at`,
and brings a churned person back to active, through the state machine."""

from __future__ import annotations

from typing import Any

from ppb.core.ports import Row, UserMachine
from ppb.domain.errors import Blocked
from ppb.domain.status import UserEvent, UserStatus
from ppb.store.admin import Admin
from ppb.store.queries import Store


async def register(store: Store, telegram_id: int, username: str | None = None, first_name: str | None = None,
                   last_name: str | None = None, language: str | None = None) -> tuple[Row, bool]:
    """The person, created once (concurrent calls make one row); returns (user, created)."""
    return await store.upsert_user(telegram_id, username, first_name, last_name, language)


async def event(users: UserMachine, telegram_id: int, kind: UserEvent, details: dict[str, Any] | None = None) -> Row:
    """Move the person through the state machine (`ForbiddenTransition` when it forbids it)."""
    return await users.apply(telegram_id, kind, details)


async def returned(users: UserMachine, telegram_id: int, status: str | None, via: str) -> Row | None:
    """A churned person who did something is back: `activity` through the machine."""
    if status == UserStatus.CHURNED:
        return await users.apply(telegram_id, UserEvent.ACTIVITY, {"via": via})
    return None


async def activity(users: UserMachine, telegram_id: int, via: str) -> Row:
    """Record activity (moves `last_activity_at`; a churned person is back to active)."""
    return await users.apply(telegram_id, UserEvent.ACTIVITY, {"via": via})


async def open_app(store: Store, users: UserMachine, telegram_id: int, username: str | None,
                   first_name: str | None, last_name: str | None, language: str | None) -> Row:
    """The person opening a client (the Mini App): registered on first sight, back from
    churned when churned; a blocked person gets `Blocked`."""
    user = await store.find_user(telegram_id)
    if user is None:
        user, _ = await store.upsert_user(telegram_id, username, first_name, last_name, language)
        return user
    if await Admin(store).blocked(user["id"]) is not None:
        raise Blocked("user: this user is blocked by an operator")
    back = await returned(users, telegram_id, user["status"], "miniapp")
    return back if back is not None else user
