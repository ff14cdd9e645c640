"""Which post a quiet person is nudged with: their best one not yet in their chat (one
person, or every person due in a pass at once)."""

from __future__ import annotations

from ppb.core.ports import Ranker, Row
from ppb.store.queries import Store

CANDIDATES = 10
"""Best posts asked for per person; the first one not in the chat yet is sent."""


async def choose(store: Store, ranker: Ranker, user_id: int) -> Row | None:
    """The best post never nudged nor sent as a feed post to this person; None when none is."""
    ranked = await ranker.best(user_id, CANDIDATES)
    already = await store.seen_post_ids(user_id)
    return next((row for row, _ in ranked if row["id"] not in already), None)


async def choose_many(store: Store, ranker: Ranker, user_ids: list[int]) -> list[Row | BaseException | None]:
    """`choose` for every user at once: ranked through the ranker's batch path when it has
    one, what each has seen read in one go. A user whose ranking failed gets the error."""
    ranked = await _rank_all(ranker, user_ids)
    seen = await store.seen_post_ids_many(user_ids)
    return [
        result if isinstance(result, BaseException)
        else next((row for row, _ in result if row["id"] not in seen.get(user_id, set())), None)
        for user_id, result in zip(user_ids, ranked, strict=True)
    ]


async def _rank_all(ranker: Ranker, user_ids: list[int]) -> list[list[tuple[Row, float]] | BaseException]:
    batch = getattr(ranker, "best_many", None)
    if batch is not None:
        return list(await batch([(user_id, CANDIDATES) for user_id in user_ids]))
    ranked: list[list[tuple[Row, float]] | BaseException] = []
    for user_id in user_ids:
        try:
            ranked.append(await ranker.best(user_id, CANDIDATES))
        except Exception as error:  # this user's failure only
            ranked.append(error)
    return ranked
