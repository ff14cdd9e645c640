"""Many users' transitions written together: one read, one multi-row compare-and-set UPDATE
and one multi-row log INSERT per batch, in one transaction (`users.py` holds the
one-at-a-time `apply_event`, whose rules these follow)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from ppb.domain.errors import DomainError, NotFound
from ppb.domain.status import UserEvent, UserStatus, is_trained_after, next_status
from ppb.store.base import Row, _rows, utcnow, writes
from ppb.store.ranking_batches import _chunks
from ppb.store.schema import Timestamp, user_logs, users
from ppb.store.users import UserQueries

Event = tuple[int, UserEvent, dict[str, Any] | None]
"""(telegram id, event, details)."""


class UserBatches(UserQueries):
    @writes
    async def apply_events(self, events: Sequence[Event]) -> list[Row | DomainError]:
        """Each event applied as `apply_event` would (one per user in a call: the shard sends
        each user's next event in the next call); the user after it, or the error a person
        would see. A user moved by someone else meanwhile is decided again on its own."""
        telegram_ids = [telegram_id for telegram_id, _, _ in events]
        assert len(set(telegram_ids)) == len(telegram_ids), "one event per user per batch"
        current = await self._users_by_telegram_id(telegram_ids)
        now = utcnow()
        results: dict[int, Row | DomainError] = {}
        planned: list[tuple[Row, UserStatus, UserStatus, Event]] = []
        for item in events:
            telegram_id, event, _ = item
            user = current.get(telegram_id)
            if user is None:
                results[telegram_id] = NotFound(f"user {telegram_id} not found (create it with POST /api/v1/users/)")
                continue
            status = UserStatus(user["status"])
            try:
                planned.append((user, status, next_status(status, UserEvent(event)), item))
            except DomainError as error:
                results[telegram_id] = error
        changed: dict[int, Row] = {}
        if planned:
            async with self.database.transaction():
                changed = await self._compare_and_set(planned, now)
                logs = [
                    {
                        "user_id": user["id"],
                        "action": f"status:{UserEvent(event).value}",
                        "details": {"from": status.value, "to": target.value, **(details or {})},
                        "created_at": now,
                    }
                    for user, status, target, (_, event, details) in planned
                    if target != status and user["id"] in changed
                ]
                if logs:
                    await self.database.execute(user_logs.insert().values(logs))
        for user, _, _, (telegram_id, event, details) in planned:
            row = changed.get(user["id"])
            if row is None:  # moved meanwhile: decide again, alone
                try:
                    results[telegram_id] = await self.apply_event(telegram_id, event, details)
                except DomainError as error:
                    results[telegram_id] = error
            else:
                results[telegram_id] = row
        return [results[telegram_id] for telegram_id in telegram_ids]

    async def _users_by_telegram_id(self, telegram_ids: Sequence[int]) -> dict[int, Row]:
        found: dict[int, Row] = {}
        for chunk in _chunks(telegram_ids):
            rows = _rows(await self.database.fetch_all(sa.select(users).where(users.c.telegram_id.in_(chunk))))
            found.update({int(row["telegram_id"]): row for row in rows})
        return found

    async def _compare_and_set(
        self, planned: list[tuple[Row, UserStatus, UserStatus, Event]], now: Any
    ) -> dict[int, Row]:
        """One UPDATE for every planned user still in the status it was read in."""

        def typed(value: Any, kind: Any) -> Any:
            bound = sa.literal(value, kind)  # PostgreSQL types CASE parameters as text unless cast
            return sa.cast(bound, kind) if self.dialect == "postgresql" else bound

        def case(values: list[tuple[int, Any]], kind: Any, otherwise: Any = None) -> Any:
            return sa.case(*[(users.c.id == user_id, typed(value, kind)) for user_id, value in values], else_=otherwise)

        moving = [(user, target) for user, status, target, _ in planned if target != status]
        values: dict[str, Any] = {"last_activity_at": typed(now, Timestamp)}
        if moving:
            values["status"] = case([(u["id"], t.value) for u, t in moving], sa.String, users.c.status)
            values["is_trained"] = case(
                [(u["id"], is_trained_after(t, bool(u["is_trained"]))) for u, t in moving], sa.Boolean, users.c.is_trained
            )
            values["updated_at"] = case([(u["id"], now) for u, _ in moving], Timestamp, users.c.updated_at)
        read_as = case([(user["id"], status.value) for user, status, _, _ in planned], sa.String)
        statement = (
            users.update()
            .where(users.c.id.in_([user["id"] for user, _, _, _ in planned]), users.c.status == read_as)
            .values(**values)
            .returning(*users.c)
        )
        return {int(row["id"]): row for row in _rows(await self.database.fetch_all(statement))}
