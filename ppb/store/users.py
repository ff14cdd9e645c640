"""Users: sign-up, the status machine's writes and its log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa

from ppb.domain.errors import DomainError, NotFound
from ppb.domain.status import UserEvent, UserStatus, is_trained_after, next_status
from ppb.store.base import Row, StoreBase, _row, _rows, utcnow, writes
from ppb.store.engine import Engine, Prepared, param
from ppb.store.schema import user_logs, users

FIND_USER = Prepared(sa.select(users).where(users.c.telegram_id == param("telegram_id", users.c.telegram_id)))
USER_ID = Prepared(sa.select(users.c.id).where(users.c.telegram_id == param("telegram_id", users.c.telegram_id)))


def new_user(engine: Engine) -> Prepared:
    """Insert the user unless there: its id, or no row when the user was there."""
    return Prepared(
        engine.insert(users)
        .values(
            telegram_id=param("telegram_id", users.c.telegram_id), username=param("username", users.c.username),
            first_name=param("first_name", users.c.first_name), last_name=param("last_name", users.c.last_name),
            language=param("language", users.c.language), status=UserStatus.NEW.value, is_trained=False,
            bonus_channels_count=0, created_at=param("now", users.c.created_at),
            updated_at=param("now", users.c.updated_at), last_activity_at=param("now", users.c.last_activity_at),
        )
        .on_conflict_do_nothing(index_elements=[users.c.telegram_id])
        .returning(users.c.id)
    )


NAMES = Prepared(
    users.update()
    .where(users.c.telegram_id == param("telegram_id", users.c.telegram_id))
    .values(**{name: sa.func.coalesce(param(name, users.c[name]), users.c[name])
               for name in ("username", "first_name", "last_name", "language")},
            updated_at=param("now", users.c.updated_at))
)
"""A known user's names and language: those given (not None) replace the stored ones."""
SEEN = Prepared(
    users.update()
    .where(users.c.id == param("id", users.c.id), users.c.status == param("status", users.c.status))
    .values(last_activity_at=param("now", users.c.last_activity_at))
    .returning(users.c.id)
)
"""Activity without a transition, unless someone moved the user meanwhile."""
MOVED = Prepared(
    users.update()
    .where(users.c.id == param("id", users.c.id), users.c.status == param("status", users.c.status))
    .values(status=param("target", users.c.status), is_trained=param("is_trained", users.c.is_trained),
            updated_at=param("now", users.c.updated_at), last_activity_at=param("now", users.c.last_activity_at))
    .returning(users.c.id)
)
"""A transition (compare-and-set on the status it was decided from)."""
LOG = Prepared(user_logs.insert().values(
    user_id=param("user_id", user_logs.c.user_id), action=param("action", user_logs.c.action),
    details=param("details", user_logs.c.details), created_at=param("at", user_logs.c.created_at)))


class UserQueries(StoreBase):
    @writes
    async def upsert_user(
        self,
        telegram_id: int,
        username: str | None,
        first_name: str | None,
        last_name: str | None,
        language: str | None = None,
    ) -> tuple[Row, bool]:
        """Create the user once; returns (user, created). Concurrent calls make one row."""
        now = utcnow()
        names = {"username": username, "first_name": first_name, "last_name": last_name, "language": language}
        inserted = await self.database.fetch_one(
            self._bound(self.engine.prepared(new_user), telegram_id=telegram_id, now=now, **names))
        if inserted is None and any(value is not None for value in names.values()):
            await self.database.execute(self._bound(NAMES, telegram_id=telegram_id, now=now, **names))
        return await self.get_user(telegram_id), inserted is not None

    async def find_user(self, telegram_id: int) -> Row | None:
        record = await self.database.fetch_one(self._bound(FIND_USER, telegram_id=telegram_id))
        return _row(record) if record else None

    async def get_user(self, telegram_id: int) -> Row:
        user = await self.find_user(telegram_id)
        if user is None:
            raise NotFound(f"user {telegram_id} not found (create it with POST /api/v1/users/)")
        return user

    async def user_id(self, telegram_id: int) -> int:
        value = await self.database.fetch_val(self._bound(USER_ID, telegram_id=telegram_id))
        if value is None:
            raise NotFound(f"user {telegram_id} not found (create it with POST /api/v1/users/)")
        return int(value)

    @writes
    async def apply_event(
        self, telegram_id: int, event: UserEvent, details: dict[str, Any] | None = None
    ) -> Row:
        """Move the user through the state machine; compare-and-set, logged with the change."""
        for _ in range(20):
            user = await self.get_user(telegram_id)
            current = UserStatus(user["status"])
            target = next_status(current, event)
            now = utcnow()
            async with self.database.transaction():
                if target == current:
                    changed = await self.database.fetch_one(
                        self._bound(SEEN, id=user["id"], status=current.value, now=now))
                else:
                    changed = await self.database.fetch_one(self._bound(
                        MOVED, id=user["id"], status=current.value, target=target.value, now=now,
                        is_trained=is_trained_after(target, bool(user["is_trained"]))))
                if changed is None:
                    continue  # someone else moved this user first: decide again
                if target != current:
                    await self._log(
                        user["id"],
                        UserEvent(event).log_action,
                        {"from": current.value, "to": target.value, **(details or {})},
                        now,
                    )
            return await self.get_user(telegram_id)
        raise DomainError(f"user {telegram_id} is changing too fast; try again")

    async def _log(self, user_id: int, action: str, details: dict[str, Any], at: datetime) -> None:
        await self.database.execute(self._bound(LOG, user_id=user_id, action=action, details=details, at=at))

    async def user_log(self, user_id: int) -> list[Row]:
        records = await self.database.fetch_all(
            sa.select(user_logs).where(user_logs.c.user_id == user_id).order_by(user_logs.c.id)
        )
        rows = _rows(records)
        for row in rows:
            if isinstance(row["details"], str | bytes):  # asyncpg hands JSON back as text
                row["details"] = orjson.loads(row["details"])
        return rows
