"""Which ratings are ratings of feed posts: the product's quality signal.

A rating is a feed rating when the feed delivered that post to that person before: the
chat's feed sent it (`chat_posts`) or a nudge did (`nudges`, status `sent`). Training
ratings, ratings of posts found by other means, and Mini App feed cards (which the store
does not record as delivered) are left out. A post re-rated keeps one rating, the last.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ppb.store.schema import chat_posts, interactions, nudges

LIKE = "like"


def delivered(since: Any = None) -> sa.ColumnElement[bool]:
    """The rating's post reached the person through the feed (at or after `since`, a column or time)."""
    in_chat = sa.select(1).where(
        chat_posts.c.user_id == interactions.c.user_id, chat_posts.c.post_id == interactions.c.post_id
    )
    nudged = sa.select(1).where(
        nudges.c.user_id == interactions.c.user_id,
        nudges.c.post_id == interactions.c.post_id,
        nudges.c.status == "sent",
    )
    if since is not None:
        in_chat = in_chat.where(chat_posts.c.created_at >= since)
        nudged = nudged.where(nudges.c.sent_at >= since)
    return sa.or_(sa.exists(in_chat), sa.exists(nudged))


def likes() -> sa.ColumnElement[Any]:
    """Likes among the rows counted (COUNT … FILTER, on both backends)."""
    return sa.func.count().filter(interactions.c.interaction_type == LIKE)
