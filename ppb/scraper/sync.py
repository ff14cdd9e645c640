"""Writing content into the store: channels keep what is known of them, posts in batches."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ppb.domain.channels import ChannelName
from ppb.store.queries import POST_BATCH, NewPost, Row, Store


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
    return Cursor(*await store.post_cursor(channel_id))


async def save_channel(store: Store, telegram_id: int, username: str | None, title: str) -> Row:
    """Create or refresh a channel; a username already stored is kept when none is given."""
    if username is None:
        known = await store.find_channels([ChannelName(telegram_id=telegram_id)])
        if known:
            username = known[0]["username"]
    return await store.upsert_channel(telegram_id, username, title)


async def save_posts(
    store: Store,
    channel_id: int,
    new_posts: Sequence[NewPost],
    on_batch: Callable[[int], None] | None = None,
) -> int:
    """Insert posts in batches (one statement and transaction each); returns how many were
    new. Re-sent posts are left as they are."""
    created = 0
    unique = list({post.telegram_message_id: post for post in new_posts}.values())
    for start in range(0, len(unique), POST_BATCH):
        batch = unique[start : start + POST_BATCH]
        created += await store.insert_posts(channel_id, batch)
        if on_batch is not None:
            on_batch(len(batch))
    return created
