"""Users: sign-up, the status machine's writes and its log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa

from ppb.domain.errors import DomainError, NotFound
from ppb.domain.status import UserEvent, UserStatus, is_trained_after, next_status
from ppb.store.base import Row, StoreBase, _row, _rows, utcnow, writes
from ppb.store.schema import user_logs, users


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
        statement = (
            self._insert(users)
            .values(
                telegram_id=telegram_id,
                username=username,
                first_name=first_name,
                last_name=last_name,
                language=language,
                status=UserStatus.NEW.value,
                is_trained=False,
                bonus_channels_count=0,
                created_at=now,
                updated_at=now,
                last_activity_at=now,
            )
            .on_conflict_do_nothing(index_elements=[users.c.telegram_id])
            .returning(users.c.id)
        )
        inserted = await self.database.fetch_one(statement)
        if inserted is None:
            changes = {
                key: value
                for key, value in (
                    ("username", username),
                    ("first_name", first_name),
                    ("last_name", last_name),
                    ("language", language),
                )
                if value is not None
            }
            if changes:
                await self.database.execute(
                    users.update()
                    .where(users.c.telegram_id == telegram_id)
                    .values(**changes, updated_at=now)
                )
        return await self.get_user(telegram_id), inserted is not None

    async def find_user(self, telegram_id: int) -> Row | None:
        record = await self.database.fetch_one(
            sa.select(users).where(users.c.telegram_id == telegram_id)
        )
        return _row(record) if record else None

    async def get_user(self, telegram_id: int) -> Row:
        user = await self.find_user(telegram_id)
        if user is None:
            raise NotFound(f"user {telegram_id} not found (create it with POST /api/v1/users/)")
        return user

    async def user_id(self, telegram_id: int) -> int:
        value = await self.database.fetch_val(
            sa.select(users.c.id).where(users.c.telegram_id == telegram_id)
        )
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
            values: dict[str, Any] = {"last_activity_at": now}
            if target != current:
                values |= {
                    "status": target.value,
                    "is_trained": is_trained_after(target, bool(user["is_trained"])),
                    "updated_at": now,
                }
            async with self.database.transaction():
                changed = await self.database.fetch_one(
                    users.update()
                    .where(users.c.id == user["id"], users.c.status == current.value)
                    .values(**values)
                    .returning(users.c.id)
                )
                if changed is None:
                    continue  # someone else moved this user first: decide again
                if target != current:
                    await self._log(
                        user["id"],
                        f"status:{event.value}",
                        {"from": current.value, "to": target.value, **(details or {})},
                        now,
                    )
            return await self.get_user(telegram_id)
        raise DomainError(f"user {telegram_id} is changing too fast; try again")

    async def _log(self, user_id: int, action: str, details: dict[str, Any], at: datetime) -> None:
        await self.database.execute(
            user_logs.insert().values(user_id=user_id, action=action, details=details, created_at=at)
        )

    async def user_log(self, user_id: int) -> list[Row]:
        records = await self.database.fetch_all(
            sa.select(user_logs).where(user_logs.c.user_id == user_id).order_by(user_logs.c.id)
        )
        rows = _rows(records)
        for row in rows:
            if isinstance(row["details"], str | bytes):  # asyncpg hands JSON back as text
                row["details"] = orjson.loads(row["details"])
        return rows
