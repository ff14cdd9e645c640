"""Which ratings are ratings of feed posts: the product's quality signal.

A rating is a feed rating when the feed delivered that post to that person before: the
chat's feed sent it (`chat_posts`), the Mini App dealt it as a feed card
(`miniapp_feed_posts`) or a nudge did (`nudges`, status `sent`). Training ratings and
ratings of posts found by other means are left out. A post re-rated keeps one rating, the last.

Each of these tables holds at most one row per (user, post), so outer joins on that key add no rows:
the queries stay one pass over the ratings, with an index lookup per rating.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ppb.store.schema import chat_posts, interactions, miniapp_feed_posts, nudges

LIKE = "like"


def with_delivery(base: Any = interactions, since: Any = None) -> tuple[Any, sa.ColumnElement[bool]]:
    """(`base` joined with how each rating's post was delivered, "it was a feed post");
    with `since` (a column or a time), only deliveries at or after it count."""
    sent = chat_posts.alias("delivered_chat")
    dealt = miniapp_feed_posts.alias("delivered_card")
    nudged = nudges.alias("delivered_nudge")
    in_chat = [sent.c.user_id == interactions.c.user_id, sent.c.post_id == interactions.c.post_id]
    in_deck = [dealt.c.user_id == interactions.c.user_id, dealt.c.post_id == interactions.c.post_id]
    by_nudge = [nudged.c.user_id == interactions.c.user_id, nudged.c.post_id == interactions.c.post_id,
                nudged.c.status == "sent"]
    if since is not None:
        in_chat.append(sent.c.created_at >= since)
        in_deck.append(dealt.c.created_at >= since)
        by_nudge.append(nudged.c.sent_at >= since)
    joined = (
        base.outerjoin(sent, sa.and_(*in_chat))
        .outerjoin(dealt, sa.and_(*in_deck))
        .outerjoin(nudged, sa.and_(*by_nudge))
    )
    return joined, sa.or_(sent.c.id.is_not(None), dealt.c.id.is_not(None), nudged.c.id.is_not(None))


def likes() -> sa.ColumnElement[Any]:
    """Likes among the rows counted (COUNT … FILTER, on both backends)."""
    return sa.func.count().filter(interactions.c.interaction_type == LIKE)
