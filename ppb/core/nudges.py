"""Which post a quiet person is nudged with: their best one not yet in their chat."""

from __future__ import annotations

from ppb.core.ports import Ranker, Row
from ppb.store.queries import Store

CANDIDATES = 10
"""Best posts asked for per person; the first one not in the chat yet is sent."""


async def choose(store: Store, ranker: Ranker, user_id: int) -> Row | None:
    """The best post never nudged nor sent as a feed post to this person; None when none is."""
    ranked = await ranker.best(user_id, CANDIDATES)
    already = await store.nudged_post_ids(user_id) | await store.chat_post_ids(user_id)
    return next((row for row, _ in ranked if row["id"] not in already), None)
