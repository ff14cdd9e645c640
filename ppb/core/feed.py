"""The feed, one for the chat and the Mini App: the best posts the person has not seen,
honest about what is left.

Seen is one notion for both clients: rated (anywhere), or already in the chat (a feed post,
a push, a digest, a nudge: `Store.seen_post_ids`). So the chat never sends a post twice, and
the Mini App's deck never repeats what the chat sent. Cards the Mini App dealt but the person
did not rate are not seen (a deck of 50 is not read at once): the deck shows them again, and
the chat may send them. Posts of a channel the person turned down (at least
`DISLIKED_AFTER` 👎 there and no 👍; skips say nothing) come only after every other post, and the
page says so (`others`), instead of silently filling it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ppb.core.ports import Ranker
from ppb.domain.interactions import InteractionType
from ppb.store.queries import Row, Store

DISLIKED_AFTER = 3
"""Dislikes in a channel, and not one like, after which the person is taken to dislike it."""
LOOKAHEAD = 100
"""Ranked posts looked at beyond those already in the chat."""
MOST_RANKED = 10_000
"""The most posts a ranking looks at (the ranker's own candidate limit): a chat holding more
unrated posts than this sees its oldest ones come round again."""


@dataclass(slots=True)
class FeedPage:
    posts: list[tuple[Row, float]] = field(default_factory=list)
    others: int = 0  # how many of them come from channels the person turned down


def disliked_channels(ratings: list[Row]) -> set[Any]:
    """Channels with at least `DISLIKED_AFTER` dislikes and not one like (a skip is no verdict)."""
    counts: dict[Any, list[str]] = {}
    for rating in ratings:
        counts.setdefault(rating["channel_id"], []).append(rating["interaction_type"])
    return {
        channel for channel, kinds in counts.items()
        if kinds.count(InteractionType.DISLIKE.value) >= DISLIKED_AFTER and InteractionType.LIKE.value not in kinds
    }


async def unseen(store: Store, ranker: Ranker, user_id: int, limit: int) -> FeedPage:
    """The best `limit` posts the person has not seen: good ones first, then others."""
    seen = await store.seen_post_ids(user_id)
    ranked = await ranker.best(user_id, min(len(seen) + LOOKAHEAD, MOST_RANKED))  # never a rated post
    fresh = [(row, score) for row, score in ranked if row["id"] not in seen]
    disliked = disliked_channels(await store.rating_keys(user_id))
    good = [(row, score) for row, score in fresh if row["channel_id"] not in disliked]
    rest = [(row, score) for row, score in fresh if row["channel_id"] in disliked]
    chosen = good[:limit]
    others = rest[: limit - len(chosen)]
    return FeedPage(chosen + others, len(others))


async def next_page(store: Store, ranker: Ranker, user_id: int, limit: int) -> FeedPage:
    """The next `limit` posts for the chat, recorded as in the chat (so seen)."""
    page = await unseen(store, ranker, user_id, limit)
    await store.add_chat_posts(user_id, [row["id"] for row, _ in page.posts])
    return page


async def deck(store: Store, ranker: Ranker, user_id: int, limit: int) -> FeedPage:
    """The Mini App's feed deck: the same posts the chat would send next, remembered as dealt
    (their ratings are feed ratings), but not as seen."""
    page = await unseen(store, ranker, user_id, limit)
    await store.add_miniapp_feed_posts(user_id, [row["id"] for row, _ in page.posts])
    return page
