"""Administration in the store: finding users, blocks, erasure, console sessions and the
log of admin actions."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

import orjson
import sqlalchemy as sa

from ppb.store.base import Row, _row, _rows, utcnow, writes
from ppb.store.console_schema import admin_actions, admin_sessions, blocked_users
from ppb.store.engine import Prepared
from ppb.store.queries import Store
from ppb.store.schema import channels, interactions, metadata, posts, training_items, users


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def user_tables() -> list[sa.Table]:
    """Every table with rows of a user (a `user_id` referencing users), children first."""
    found = []
    for table in reversed(metadata.sorted_tables):
        column = table.c.get("user_id")
        if column is not None and any(fk.column.table is users for fk in column.foreign_keys):
            found.append(table)
    return found


BLOCKED = Prepared(sa.select(blocked_users).where(
    blocked_users.c.user_id == sa.bindparam("user_id", type_=blocked_users.c.user_id.type)))
"""Whether a user is blocked (every feed call asks)."""


class Admin:
    """What operators change, each change logged with who made it."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._db = store.database
        self.engine = store.engine  # `@writes` takes its one-writer lock

    # the log ---------------------------------------------------------------------------

    @writes
    async def log(self, actor: str, action: str, target: str | None, details: dict[str, Any] | None = None) -> None:
        await self._db.execute(admin_actions.insert().values(
            actor=actor, action=action, target=target, details=details or {}, created_at=utcnow()))

    async def actions(self, limit: int = 100, target: str | None = None) -> list[Row]:
        query = sa.select(admin_actions).order_by(admin_actions.c.id.desc()).limit(limit)
        if target is not None:
            query = query.where(admin_actions.c.target == target)
        rows = _rows(await self._db.fetch_all(query))
        for row in rows:
            if isinstance(row["details"], str | bytes):
                row["details"] = orjson.loads(row["details"])
        return rows

    # sessions --------------------------------------------------------------------------

    @writes
    async def open_session(self, operator: str, ttl_s: float) -> tuple[str, str]:
        """A new console session; returns (cookie token, CSRF token). Only the token's hash is kept."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        now = utcnow()
        await self._db.execute(admin_sessions.delete().where(admin_sessions.c.expires_at < now))
        await self._db.execute(admin_sessions.insert().values(
            token_hash=_hash(token), csrf_token=csrf, operator=operator, created_at=now,
            expires_at=now + timedelta(seconds=ttl_s)))
        return token, csrf

    async def session(self, token: str) -> Row | None:
        record = await self._db.fetch_one(sa.select(admin_sessions).where(
            admin_sessions.c.token_hash == _hash(token), admin_sessions.c.expires_at > utcnow()))
        return _row(record) if record else None

    @writes
    async def close_session(self, token: str) -> None:
        await self._db.execute(admin_sessions.delete().where(admin_sessions.c.token_hash == _hash(token)))

    # users -----------------------------------------------------------------------------

    async def find_users(self, search: str | None, status: str | None, limit: int, offset: int) -> list[Row]:
        """Users matching `search` (telegram id, @username, or a part of a name), newest first."""
        ratings = (
            sa.select(sa.func.count()).where(interactions.c.user_id == users.c.id).scalar_subquery()
        )
        blocked = sa.exists(sa.select(1).where(blocked_users.c.user_id == users.c.id))
        query = (
            sa.select(users, ratings.label("ratings"), blocked.label("blocked"))
            .order_by(users.c.id.desc()).limit(limit).offset(offset)
        )
        if status:
            query = query.where(users.c.status == status)
        if search:
            text = search.strip().lower().lstrip("@")
            pattern = f"%{text}%"
            matches = [sa.func.lower(users.c.username).like(pattern), sa.func.lower(users.c.first_name).like(pattern),
                       sa.func.lower(users.c.last_name).like(pattern)]
            if text.lstrip("-").isdigit() and len(text) < 19:
                matches.append(users.c.telegram_id == int(text))
            query = query.where(sa.or_(*matches))
        rows = _rows(await self._db.fetch_all(query))
        for row in rows:
            row["blocked"] = bool(row["blocked"])
        return rows

    async def ratings(self, user_id: int, limit: int = 200) -> list[Row]:
        query = (
            sa.select(interactions.c.id, interactions.c.post_id, interactions.c.interaction_type,
                      interactions.c.created_at, posts.c.text, channels.c.title.label("channel_title"))
            .join(posts, posts.c.id == interactions.c.post_id)
            .join(channels, channels.c.id == posts.c.channel_id)
            .where(interactions.c.user_id == user_id)
            .order_by(interactions.c.created_at.desc(), interactions.c.id.desc())
            .limit(limit)
        )
        return _rows(await self._db.fetch_all(query))

    async def blocked_among(self, user_ids: list[int]) -> set[int]:
        """Which of these users are blocked, in one statement."""
        if not user_ids:
            return set()
        records = await self._db.fetch_all(
            sa.select(blocked_users.c.user_id).where(blocked_users.c.user_id.in_(sorted(set(user_ids))))
        )
        return {int(record[0]) for record in records}

    async def blocked(self, user_id: int) -> Row | None:
        record = await self._db.fetch_one(self._store._bound(BLOCKED, user_id=user_id))
        return _row(record) if record else None

    @writes
    async def block(self, user_id: int, actor: str, reason: str | None) -> bool:
        """Block the user; False when they were blocked already."""
        value = await self._db.fetch_val(
            self._store._insert(blocked_users)
            .values(user_id=user_id, blocked_by=actor, reason=reason, created_at=utcnow())
            .on_conflict_do_nothing(index_elements=[blocked_users.c.user_id])
            .returning(blocked_users.c.user_id)
        )
        return value is not None

    @writes
    async def unblock(self, user_id: int) -> bool:
        value = await self._db.fetch_val(
            blocked_users.delete().where(blocked_users.c.user_id == user_id).returning(blocked_users.c.user_id)
        )
        return value is not None

    @writes
    async def set_default(self, channel_id: int, is_default: bool) -> None:
        await self._db.execute(channels.update().where(channels.c.id == channel_id).values(is_default=is_default))

    @writes
    async def clear_training(self, user_id: int) -> int:
        """Forget the user's ratings and training set (the model is refit from nothing); returns the ratings dropped."""
        async with self._db.transaction():
            dropped = await self._db.fetch_val(
                sa.select(sa.func.count()).select_from(interactions).where(interactions.c.user_id == user_id))
            await self._db.execute(interactions.delete().where(interactions.c.user_id == user_id))
            await self._db.execute(training_items.delete().where(training_items.c.user_id == user_id))
        return int(dropped or 0)


@writes
async def _erase(self: Admin, user_id: int) -> dict[str, int]:
    counts: dict[str, int] = {}
    async with self._db.transaction():
        for table in user_tables():
            counts[table.name] = int(await self._db.fetch_val(
                sa.select(sa.func.count()).select_from(table).where(table.c.user_id == user_id)) or 0)
            await self._db.execute(table.delete().where(table.c.user_id == user_id))
        await self._db.execute(users.delete().where(users.c.id == user_id))
    return counts


async def erase_user(store: Store, user_id: int) -> dict[str, int]:
    """Erase a user from every table (their ratings, channels, logs, nudges, feed, training,
    assignments, block, and the user row); returns the rows removed per table."""
    return await _erase(Admin(store), user_id)
