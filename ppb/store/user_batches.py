"""Many users' transitions written together: one read, one multi-row compare-and-set UPDATE
and one multi-row log INSERT per batch, in one transaction (`users.py` holds the
one-at-a-time `apply_event`, whose rules these follow)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
import sqlalchemy as sa

from ppb.domain.errors import DomainError, NotFound
from ppb.domain.status import UserEvent, UserStatus, is_trained_after, next_status
from ppb.store.base import Row, _rows, utcnow, writes
from ppb.store.engine import Column
from ppb.store.ranking_batches import _chunks
from ppb.store.schema import users
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
                        "action": UserEvent(event).log_action,
                        "details": {"from": status.value, "to": target.value, **(details or {})},
                        "created_at": now,
                    }
                    for user, status, target, (_, event, details) in planned
                    if target != status and user["id"] in changed
                ]
                if logs:
                    await self._log_many(logs)
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
        """One UPDATE for every planned user still in the status it was read in: the rows go
        as one JSON parameter (`Engine.json_rows`)."""
        rows = [
            {
                "id": user["id"],
                "expected": status.value,
                "status": target.value,
                "is_trained": is_trained_after(target, bool(user["is_trained"])),
                "moved": target != status,
            }
            for user, status, target, _ in planned
        ]
        engine = self.engine
        given, now_sql = engine.json_rows("rows", MOVES), engine.time_parameter("now")
        v = given.value
        sql = f"""
UPDATE users SET
    status = {v['status']},
    is_trained = {v['is_trained']},
    updated_at = CASE WHEN {v['moved']} THEN {now_sql} ELSE users.updated_at END,
    last_activity_at = {now_sql}
FROM {given.source}
WHERE users.id = {v['id']} AND users.status = {v['expected']}
RETURNING {_COLUMNS}
"""
        statement = sa.text(sql).bindparams(rows=orjson.dumps(rows).decode(), now=engine.time_value(now))
        return {int(row["id"]): row for row in _rows(await self.database.fetch_all(statement.columns(*users.c)))}

    async def _log_many(self, logs: list[Row]) -> None:
        """The transitions' log lines, one INSERT from one JSON parameter."""
        engine = self.engine
        for row in logs:
            row["created_at"] = engine.json_time(row["created_at"])
        given = engine.json_rows("rows", LOG_LINES)
        v = given.value
        sql = (f"INSERT INTO user_logs (user_id, action, details, created_at) "
               f"SELECT {v['user_id']}, {v['action']}, {v['details']}, {v['created_at']} FROM {given.source}")
        await self.database.execute(sa.text(sql).bindparams(rows=orjson.dumps(logs).decode()))


MOVES = (Column("id", "bigint"), Column("expected", "text"), Column("status", "text"),
         Column("is_trained", "boolean"), Column("moved", "boolean"))
"""A planned transition, as `_compare_and_set` sends it."""
LOG_LINES = (Column("user_id", "bigint"), Column("action", "text"), Column("details", "json"),
             Column("created_at", "timestamptz"))
_COLUMNS = ", ".join(f"users.{column.name}" for column in users.c)
