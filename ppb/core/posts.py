"""Posts for a person: some of their channels' newest to train on, and their best ranked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ppb.core.ports import Ranker, Row
from ppb.core.training import training_posts
from ppb.domain.channels import ChannelName
from ppb.store.queries import Store


@dataclass(slots=True)
class TrainingPosts:
    posts: list[Row] = field(default_factory=list)
    unknown: list[ChannelName] = field(default_factory=list)
    """Channels named that PPB does not have (scrape or import them first)."""


async def for_training(store: Store, telegram_id: int, names: Sequence[ChannelName], per_channel: int,
                       vector_model: str | None = None) -> TrainingPosts:
    """`per_channel` posts of each known channel the person has not rated, spanning its
    newest (`training.training_posts`); the known channels are linked to the person for
    training, the unknown ones listed."""
    user_id = await store.user_id(telegram_id)
    found = await store.find_channels(names)
    known = {row["username"] for row in found} | {row["telegram_id"] for row in found}
    unknown = [name for name in dict.fromkeys(names) if name.key not in known]
    channel_ids = [row["id"] for row in found]
    if channel_ids:
        await store.link_channels(user_id, channel_ids, for_training=True)
    rows = await training_posts(store, channel_ids, per_channel, user_id, vector_model)
    return TrainingPosts(rows, unknown)


async def best(store: Store, ranker: Ranker, telegram_id: int, limit: int) -> list[tuple[Row, float]]:
    """The person's best unrated posts from their channels, by their model."""
    return await ranker.best(await store.user_id(telegram_id), limit)
