"""Why a post is in a person's feed, told and kept: every client (the REST API, the Mini App,
the bot's ❓) asks through `explain`, which records the reason it led with and where the
person asked, so the console can count the reasons and compare what was liked after."""

from __future__ import annotations

from ppb.core.variants import FeedRanker
from ppb.domain.explanations import NO_REASON, Surface
from ppb.ranking.explain import Explanation
from ppb.store.queries import Store


def lead(found: Explanation) -> str:
    """The reason the explanation names first (the strongest, or the slot that placed the
    post: exploration, a must-see word), or `none` when nothing stood out."""
    return found.reasons[0].kind if found.reasons else NO_REASON


async def explain(store: Store, ranker: FeedRanker, user_id: int, post_id: int, surface: Surface) -> Explanation:
    """The explanation, recorded (one insert) once it is made; a refused one is not kept."""
    found = await ranker.explain(user_id, post_id)
    await store.record_explanation(user_id, post_id, lead(found), surface.value)
    return found
