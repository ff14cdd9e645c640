"""Each user's training set, in the order it is shown."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from ppb.store.base import Row, StoreBase, _rows, utcnow, writes
from ppb.store.channels import link_statement
from ppb.store.engine import Prepared
from ppb.store.schema import channels, interactions, posts, training_items, user_channels


_user = sa.bindparam("user_id", type_=training_items.c.user_id.type)
TRAINING_SET = Prepared(
    sa.select(
        posts.c.id,
        posts.c.channel_id,
        posts.c.telegram_message_id,
        posts.c.text,
        posts.c.html,
        posts.c.media_type,
        posts.c.posted_at,
        channels.c.username.label("channel_username"),
        channels.c.title.label("channel_title"),
        interactions.c.interaction_type.label("rating"),
    )
    .select_from(training_items)
    .join(posts, posts.c.id == training_items.c.post_id)
    .join(channels, channels.c.id == posts.c.channel_id)
    .outerjoin(interactions, sa.and_(interactions.c.post_id == posts.c.id, interactions.c.user_id == _user))
    .where(training_items.c.user_id == _user,
           sa.or_(posts.c.deleted_at.is_(None), interactions.c.id.is_not(None)))
    .order_by(training_items.c.position)
)
"""A post deleted on Telegram leaves the set unless the user rated it already (it still counts)."""


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
            link = link_statement(self._insert(user_channels), user_id, channel_ids, for_training=True)
            if link is not None:
                await self.database.execute(link)
            if post_ids:
                await self._fill_training(user_id, post_ids, append)

    async def _fill_training(self, user_id: int, post_ids: Sequence[int], append: bool) -> None:
        now = utcnow()
        start = 0
        if append:
            start = int(await self.database.fetch_val(
                sa.select(sa.func.coalesce(sa.func.max(training_items.c.position), -1))
                .where(training_items.c.user_id == user_id)
            )) + 1
        else:
            await self.database.execute(training_items.delete().where(training_items.c.user_id == user_id))
        rows = [
            {"user_id": user_id, "post_id": post_id, "position": start + index, "created_at": now}
            for index, post_id in enumerate(dict.fromkeys(post_ids))
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
