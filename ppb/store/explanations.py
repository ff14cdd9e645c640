"""The explanations given: one row each time a person asked why a post is in their feed."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from ppb.store.base import Row, StoreBase, _rows, utcnow, writes
from ppb.store.engine import Prepared, param
from ppb.store.schema import explanations



GIVEN = Prepared(explanations.insert().values(
    user_id=param("user_id", explanations.c.user_id), post_id=param("post_id", explanations.c.post_id),
    lead=param("lead", explanations.c.lead), surface=param("surface", explanations.c.surface),
    created_at=param("at", explanations.c.created_at)))
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
