"""Writing content into the store: channels keep what is known of them, posts in batches."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from ppb.domain.channels import ChannelRef
from ppb.store.queries import NewPost, Row, Store
from ppb.store.schema import posts

BATCH = 2000
"""Posts per write: large enough to amortise a round trip, small enough to show progress."""


def marked_channel_id(bare_id: int) -> int:
    """Telegram's bare channel id -> the `-100…` id PPB stores and accepts."""
    return bare_id if bare_id < 0 else -(10**12 + bare_id)


@dataclass(frozen=True, slots=True)
class Cursor:
    """What the store holds of a channel: its newest and oldest post keys and how many."""

    newest: int | None
    oldest: int | None
    count: int


async def channel_cursor(store: Store, channel_id: int) -> Cursor:
    record = await store.database.fetch_one(
        sa.select(
            sa.func.max(posts.c.telegram_message_id),
            sa.func.min(posts.c.telegram_message_id),
            sa.func.count(),
        ).where(posts.c.channel_id == channel_id)
    )
    assert record is not None
    newest, oldest, count = tuple(record._mapping.values())
    return Cursor(
        int(newest) if newest is not None else None,
        int(oldest) if oldest is not None else None,
        int(count or 0),
    )


async def save_channel(store: Store, telegram_id: int, username: str | None, title: str) -> Row:
    """Create or refresh a channel; a username already stored is kept when none is given."""
    if username is None:
        known = await store.find_channels([ChannelRef(telegram_id=telegram_id)])
        if known:
            username = known[0]["username"]
    return await store.upsert_channel(telegram_id, username, title)


async def save_posts(
    store: Store,
    channel_id: int,
    new_posts: Sequence[NewPost],
    on_batch: Callable[[int], None] | None = None,
) -> int:
    """Insert posts in batches, each in one transaction; returns how many were new."""
    created = 0
    for start in range(0, len(new_posts), BATCH):
        batch = new_posts[start : start + BATCH]
        async with store.session():
            async with store.database.transaction():
                count, _ = await store.add_posts(channel_id, batch)
        created += count
        if on_batch is not None:
            on_batch(len(batch))
    return created
