"""Each user's training set, in the order it is shown."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

from ppb.store.base import Row, StoreBase, _rows, utcnow, writes
from ppb.store.channels import link_statement
from ppb.store.engine import Engine, Prepared, param
from ppb.store.posts import card_columns
from ppb.store.schema import channels, interactions, posts, training_items, user_channels


_user = sa.bindparam("user_id", type_=training_items.c.user_id.type)
TRAINING_SET = Prepared(
    sa.select(*card_columns(posts), interactions.c.interaction_type.label("rating"))
    .select_from(training_items)
    .join(posts, posts.c.id == training_items.c.post_id)
    .join(channels, channels.c.id == posts.c.channel_id)
    .outerjoin(interactions, sa.and_(interactions.c.post_id == posts.c.id, interactions.c.user_id == _user))
    .where(training_items.c.user_id == _user,
           sa.or_(posts.c.deleted_at.is_(None), interactions.c.id.is_not(None)))
    .order_by(training_items.c.position)
)
"""A post deleted on Telegram leaves the set unless the user rated it already (it still counts)."""


PREPARED_ROWS = 64
"""Rows up to which a training's multi-row writes are built once for each row count (a
training's start wrote a statement built and compiled anew each time: most of its CPU)."""
CLEAR_SET = Prepared(training_items.delete().where(training_items.c.user_id == param("user_id", training_items.c.user_id)))


@functools.cache
def _set_rows(count: int) -> Callable[[Engine], Prepared]:
    """The INSERT of `count` posts of a training set (`post_<i>` at `position_<i>`)."""

    def build(engine: Engine) -> Prepared:
        user, now = param("user_id", training_items.c.user_id), param("now", training_items.c.created_at)
        rows = [{"user_id": user, "post_id": param(f"post_{i}", training_items.c.post_id),
                 "position": param(f"position_{i}", training_items.c.position), "created_at": now}
                for i in range(count)]
        return Prepared(engine.insert(training_items).values(rows).on_conflict_do_nothing(
            index_elements=[training_items.c.user_id, training_items.c.post_id]))

    return build


@functools.cache
def _link_rows(count: int) -> Callable[[Engine], Prepared]:
    """`link_statement` for training, `count` channels (`channel_<i>`): an existing link
    kept, marked for training."""

    def build(engine: Engine) -> Prepared:
        user, now = param("user_id", user_channels.c.user_id), param("now", user_channels.c.created_at)
        rows = [{"user_id": user, "channel_id": param(f"channel_{i}", user_channels.c.channel_id),
                 "is_for_training": True, "is_bonus": False, "created_at": now} for i in range(count)]
        return Prepared(engine.insert(user_channels).values(rows).on_conflict_do_update(
            index_elements=[user_channels.c.user_id, user_channels.c.channel_id], set_={"is_for_training": True}))

    return build


class TrainingQueries(StoreBase):
    @writes
    async def set_training(self, user_id: int, post_ids: Sequence[int], *, append: bool = False) -> None:
        """Make these posts the user's training set, in this order (or add them at its end)."""
        async with self.database.transaction():
            await self._fill_training(user_id, post_ids, append)

    @writes
    async def start_training_set(self, user_id: int, channel_ids: Sequence[int], post_ids: Sequence[int], *,
                                 append: bool = False) -> None:
        """Link the channels for training and, unless no posts are given, make these posts the
        training set (or add them to it): one transaction."""
        async with self.database.transaction():
            await self._link_for_training(user_id, channel_ids)
            if post_ids:
                await self._fill_training(user_id, post_ids, append)

    async def _link_for_training(self, user_id: int, channel_ids: Sequence[int]) -> None:
        unique = list(dict.fromkeys(channel_ids))
        if not unique:
            return
        if len(unique) > PREPARED_ROWS:
            link = link_statement(self._insert(user_channels), user_id, unique, for_training=True)
            await self.database.execute(link)
            return
        values: dict[str, Any] = {f"channel_{i}": channel_id for i, channel_id in enumerate(unique)}
        await self.database.execute(self._bound(self.engine.prepared(_link_rows(len(unique))), user_id=user_id,
                                                now=utcnow(), **values))

    async def _fill_training(self, user_id: int, post_ids: Sequence[int], append: bool) -> None:
        now = utcnow()
        start = 0
        if append:
            start = int(await self.database.fetch_val(
                sa.select(sa.func.coalesce(sa.func.max(training_items.c.position), -1))
                .where(training_items.c.user_id == user_id)
            )) + 1
        else:
            await self.database.execute(self._bound(CLEAR_SET, user_id=user_id))
        unique = list(dict.fromkeys(post_ids))
        if unique and len(unique) <= PREPARED_ROWS:
            values: dict[str, Any] = {}
            for index, post_id in enumerate(unique):
                values[f"post_{index}"], values[f"position_{index}"] = post_id, start + index
            await self.database.execute(self._bound(self.engine.prepared(_set_rows(len(unique))), user_id=user_id,
                                                    now=now, **values))
            return
        rows = [
            {"user_id": user_id, "post_id": post_id, "position": start + index, "created_at": now}
            for index, post_id in enumerate(unique)
        ]
        if rows:
            await self.database.execute(
                self._insert(training_items).values(rows).on_conflict_do_nothing(
                    index_elements=[training_items.c.user_id, training_items.c.post_id]
                )
            )

    async def training_set(self, user_id: int) -> list[Row]:
        """The user's training set in order: each post as a card, with the user's rating (or None)."""
        return _rows(await self.database.fetch_all(self._bound(TRAINING_SET, user_id=user_id)))
