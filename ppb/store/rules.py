"""Each person's delivery rules (one row per person who changed a default)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
import sqlalchemy as sa

from ppb.store.base import Row, StoreBase, _rows, utcnow, writes
from ppb.store.engine import Prepared
from ppb.store.schema import user_rules


def decoded_rules(row: Row) -> Row:
    """A rules row with its JSON columns read (a driver may hand them over as text)."""
    for key in ("mute_words", "must_words", "channel_dials"):
        if isinstance(row.get(key), str | bytes):
            row[key] = orjson.loads(row[key])
    return row


RULES = Prepared(sa.select(user_rules).where(
    user_rules.c.user_id.in_(sa.bindparam("user_ids", expanding=True, type_=user_rules.c.user_id.type))))


class RuleQueries(StoreBase):
    async def rules_rows(self, user_ids: Sequence[int]) -> dict[int, Row]:
        """The stored rules of these users, by user id (users on defaults are absent)."""
        if not user_ids:
            return {}
        records = await self.database.fetch_all(self._bound(RULES, user_ids=list(user_ids)))
        return {int(row["user_id"]): decoded_rules(row) for row in _rows(records)}

    @writes
    async def put_rules(self, user_id: int, values: dict[str, Any]) -> None:
        """Write the whole rule set (insert or replace); `last_digest_at` is kept."""
        values = {**values, "updated_at": utcnow()}
        statement = self._insert(user_rules).values(user_id=user_id, **values)
        statement = statement.on_conflict_do_update(index_elements=[user_rules.c.user_id], set_=values)
        await self.database.execute(statement)

