"""What a person has seen, said once: a post is in their chat when it was sent there as a feed
post, a push or a digest entry (`chat_posts`) or as a nudge (`nudges`); seen is that, or rated
(`interactions`). No feed, nudge or push offers a seen post again."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from ppb.store.schema import chat_posts, interactions, nudges

IN_CHAT = (chat_posts, nudges)
"""The tables that remember a post sent into a person's chat."""
SEEN = (interactions, *IN_CHAT)
"""The tables that make a post seen: rated, or in the chat."""


def pairs(tables: tuple[sa.Table, ...], where: Callable[[sa.Table], sa.ColumnElement[bool]]) -> sa.CompoundSelect:
    """(user_id, post_id) rows of these tables, each filtered by `where(table)`, in one statement."""
    return sa.union_all(*(sa.select(table.c.user_id, table.c.post_id).where(where(table)) for table in tables))
