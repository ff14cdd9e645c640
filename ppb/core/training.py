"""One training state for the chat and the Mini App alike.

The set of posts to rate lives in the store (`training_items`), in the order it is shown:
channels interleaved, so a person's taste shows within the first few cards. Progress is
what of that set the person has rated, wherever they rated it. Finishing, by the last
rating in either client or by "finish now", trains the model and completes training.

The trainer stops by itself for a channel whose verdict is clear: once the first
`SETTLED_AFTER` ratings of a channel in the set agree (all 👍, or all 👎), its other posts
are left out (`skipped`, which both clients name, so a smaller total is explained). When
nothing is left to rate, training completes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ppb.core import channels, users as people
from ppb.core.ports import Ranker as Trainer
from ppb.core.ports import UserMachine
from ppb.core.rules import post_filter
from ppb.domain.channels import ChannelName
from ppb.domain.status import UserEvent, UserStatus
from ppb.ranking.span import spanning
from ppb.store.queries import Row, Store

MIN_RATINGS = 5
"""Ratings after which a person may finish early (or the whole set, when it is smaller)."""
SETTLED_AFTER = 4
"""Agreeing ratings after which a channel's verdict is clear and its other posts are dropped."""
WINDOW = 6
"""A channel's training posts are chosen among its newest unrated posts, this many per post
asked for (`ppb.ranking.span`; 4 lost on the mixed-language slice after training, 8 gained
less on Russian: docs/ranking.md)."""


@dataclass(slots=True)
class TrainingState:
    """Where a person's training stands, as both clients show it."""

    status: str
    is_trained: bool
    total: int
    done: int
    cards: list[Row] = field(default_factory=list)  # still to rate, in order
    ratings_count: int = 0  # ratings the person has made overall
    skipped: list[Row] = field(default_factory=list)  # left out: their channel's verdict is clear

    @property
    def settled(self) -> list[str]:
        """The channels whose other posts were left out, as the person knows them (titles)."""
        return list(dict.fromkeys(row.get("channel_title") or row.get("channel_username") or "" for row in self.skipped))

    @property
    def remaining(self) -> int:
        return len(self.cards)

    @property
    def active(self) -> bool:
        return self.status == UserStatus.TRAINING

    @property
    def can_finish(self) -> bool:
        return self.active and self.done >= min(MIN_RATINGS, self.total) and self.done > 0


async def training_posts(store: Store, channel_ids: Sequence[int], per_channel: int, user_id: int,
                         vector_model: str | None = None) -> list[Row]:
    """Each channel's `per_channel` posts to rate, newest first, none the person rated, muted
    or an ad: with stored sentence vectors of `vector_model`, those that span the channel's
    newest `WINDOW` times as many; a post whose vector is not made yet is taken only when too
    few have one (a training never waits for the embedding stage)."""
    if not channel_ids:
        return []
    window = per_channel * WINDOW if vector_model is not None else per_channel
    rows = (await post_filter(store, user_id)).keep(await store.latest_posts(channel_ids, window, unrated_by=user_id))
    if vector_model is None:
        return rows
    found = await store.window_vectors(vector_model, [row["id"] for row in rows])
    width = len(next(iter(found.values()))) if found else 0
    by_channel: dict[Any, list[Row]] = {}
    for row in rows:
        by_channel.setdefault(row["channel_id"], []).append(row)
    windows = []
    for mine in by_channel.values():
        present = np.array([row["id"] in found for row in mine], dtype=bool)
        vectors = np.zeros((len(mine), width), dtype=np.float32)
        if present.any():
            vectors[present] = np.stack([found[row["id"]] for row in mine if row["id"] in found])
        windows.append((vectors, present))
    picks = await asyncio.to_thread(lambda: [spanning(vectors, present, per_channel) for vectors, present in windows])
    return [mine[n] for mine, chosen in zip(by_channel.values(), picks, strict=True) for n in chosen]


def interleave(rows: Sequence[Row]) -> list[Row]:
    """Round-robin over the channels, in the order they first appear; each channel newest first."""
    by_channel: dict[Any, list[Row]] = {}
    for row in rows:
        by_channel.setdefault(row["channel_id"], []).append(row)
    queues = list(by_channel.values())
    mixed: list[Row] = []
    while queues:
        mixed += [queue.pop(0) for queue in queues]
        queues = [queue for queue in queues if queue]
    return mixed


def settled_channels(items: Sequence[Row]) -> set[Any]:
    """Channels whose first `SETTLED_AFTER` ratings in the set all agree (like, or dislike)."""
    verdicts: dict[Any, list[str]] = {}
    for item in items:
        if item["rating"] is not None:
            verdicts.setdefault(item["channel_id"], []).append(item["rating"])
    return {
        channel for channel, kinds in verdicts.items()
        if len(kinds) >= SETTLED_AFTER and len(set(kinds[:SETTLED_AFTER])) == 1 and kinds[0] != "skip"
    }


async def read(store: Store, telegram_id: int) -> TrainingState:
    """The person's training as it stands (their last set, when no training is going on)."""
    user = await store.get_user(telegram_id)
    items = await store.training_set(user["id"])
    settled = settled_channels(items)
    rated = [item for item in items if item["rating"] is not None]
    hidden = await post_filter(store, user["id"])  # muted words and ads, as everywhere
    unrated = [item for item in items if item["rating"] is None and hidden.shows(item)]
    cards = [item for item in unrated if item["channel_id"] not in settled]
    count = await store.rating_count(user["id"])
    return TrainingState(
        status=user["status"], is_trained=bool(user["is_trained"]), total=len(rated) + len(cards),
        done=len(rated), cards=cards, ratings_count=count,
        skipped=[item for item in unrated if item["channel_id"] in settled],
    )


async def enter(users: UserMachine, store: Store, telegram_id: int) -> Row:
    """Move the person to `training` from wherever they are (new, churned: through start/activity)."""
    user = await store.get_user(telegram_id)
    status = UserStatus(user["status"])
    if status == UserStatus.TRAINING:
        return user
    if status == UserStatus.NEW:
        await users.apply(telegram_id, UserEvent.START, {"via": "training"})
    await people.returned(users, telegram_id, status, "training")
    return await users.apply(telegram_id, UserEvent.START_TRAINING, None)


async def start(store: Store, users: UserMachine, telegram_id: int, refs: Sequence[ChannelName],
                per_channel: int, *, append: bool = False, vector_model: str | None = None) -> TrainingState:
    """Start a training on these channels' unrated posts (`training_posts`, interleaved); with `append`
    and a training going on, add them to it instead. The channels are linked for training.
    When nothing is left to rate, the last set stays: its totals are still the person's (a
    retrain then shows what was rated, never 0 of 0). The links and the set are written in
    one transaction."""
    user = await enter(users, store, telegram_id)
    channel_ids = [row["id"] for row in await store.find_channels(refs)]
    rows = await training_posts(store, channel_ids, per_channel, user["id"], vector_model)
    if channel_ids:
        await store.start_training_set(user["id"], channel_ids, [row["id"] for row in interleave(rows)],
                                       append=append)
    return await read(store, telegram_id)


async def default_refs(store: Store, user_id: int, configured: Sequence[ChannelName]) -> list[ChannelName]:
    """The default channels (configured, then marked in the store) but those the person
    removed, then the person's own channels marked for training."""
    refs = await channels.defaults(store, configured)
    dropped = await store.dropped_channel_ids(user_id)
    if dropped:
        gone = {row["username"] or row["telegram_id"] for row in await store.find_channels(refs) if row["id"] in dropped}
        refs = [ref for ref in refs if ref.key not in gone]
    for channel in await store.list_user_channels(user_id):
        if channel["is_for_training"]:
            refs.append(ChannelName(username=channel["username"]) if channel["username"]
                        else ChannelName(telegram_id=channel["telegram_id"]))
    return list({repr(ref): ref for ref in refs}.values())


@dataclass(slots=True)
class Finished:
    success: bool
    ratings_count: int
    seconds: float
    state: TrainingState


async def finish(store: Store, users: UserMachine, trainer: Trainer, telegram_id: int) -> Finished:
    """Train the model on every rating so far; completes a training that is going on."""
    user = await store.get_user(telegram_id)
    count, seconds = await trainer.train(user["id"])
    if count and user["status"] == UserStatus.TRAINING:
        await users.apply(telegram_id, UserEvent.COMPLETE_TRAINING, {"ratings": count})
    return Finished(bool(count), count, seconds, await read(store, telegram_id))


async def after_rating(store: Store, users: UserMachine, trainer: Trainer, telegram_id: int) -> TrainingState:
    """A rating that leaves nothing to rate completes the training (from either client); the
    training as it stands after the rating."""
    state = await read(store, telegram_id)
    if state.active and state.total and not state.cards:
        return (await finish(store, users, trainer, telegram_id)).state
    return state
