"""The explanations given: one row each time a person asked why a post is in their feed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ppb.store.base import Row, StoreBase, _rows, utcnow, writes
from ppb.store.engine import Prepared
from ppb.store.schema import explanations


def _param(name: str, column: sa.Column[Any]) -> Any:
    return sa.bindparam(name, type_=column.type)


GIVEN = Prepared(explanations.insert().values(
    user_id=_param("user_id", explanations.c.user_id), post_id=_param("post_id", explanations.c.post_id),
    lead=_param("lead", explanations.c.lead), surface=_param("surface", explanations.c.surface),
    created_at=_param("at", explanations.c.created_at)))
"""One explanation given (built once: every explain call writes it)."""
class ExplanationQueries(StoreBase):
    @writes
    async def record_explanation(self, user_id: int, post_id: int, lead: str, surface: str,
                                 at: datetime | None = None) -> None:
        """Keep that the person was told why about the post: the reason named first, and where."""
        given = self._bound(GIVEN, user_id=user_id, post_id=post_id, lead=lead, surface=surface, at=at or utcnow())
        await self.engine.execute_unflushed(given)  # statistics: a crash may lose the last moment

    async def explanations_of(self, user_id: int) -> list[Row]:
        """Every explanation the person was given, oldest first (their data export)."""
        query = (
            sa.select(explanations.c.post_id, explanations.c.lead, explanations.c.surface, explanations.c.created_at)
            .where(explanations.c.user_id == user_id)
            .order_by(explanations.c.created_at, explanations.c.id)
        )
        return _rows(await self.database.fetch_all(query))
