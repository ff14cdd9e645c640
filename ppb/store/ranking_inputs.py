"""What the ranker reads: candidates, texts, like rates, the ratings of peers."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from ppb.domain.interactions import InteractionType
from ppb.store.base import INSERT_CHUNK, Row, StoreBase, _rows
from ppb.store.engine import Prepared
from ppb.store.schema import channels, interactions, posts, user_channels

RATING_KEYS = Prepared(
    sa.select(interactions.c.post_id, posts.c.channel_id, posts.c.posted_at, interactions.c.interaction_type)
    .join(posts, posts.c.id == interactions.c.post_id)
    .where(interactions.c.user_id == sa.bindparam("user_id", type_=interactions.c.user_id.type))
    .order_by(interactions.c.id)
)
"""A user's ratings, oldest first (every feed call reads them: built once, see `engine/prepared.py`)."""
FEED_POSTS = Prepared(
    sa.select(
        posts.c.id,
        posts.c.text,
        posts.c.html,
        posts.c.channel_id,
        posts.c.media_type,
        posts.c.posted_at,
        channels.c.title.label("channel_title"),
        posts.c.telegram_message_id,  # with the username: a link to the original
        channels.c.username.label("channel_username"),
    )
    .join(channels, channels.c.id == posts.c.channel_id)
    .where(posts.c.id.in_(sa.bindparam("post_ids", expanding=True, type_=posts.c.id.type)),
           posts.c.deleted_at.is_(None))
)
POSTS_AFTER = Prepared(
    sa.select(posts.c.id, posts.c.channel_id, posts.c.posted_at)
    .where(posts.c.id > sa.bindparam("after_id", type_=posts.c.id.type))
    .order_by(posts.c.id)
    .limit(sa.bindparam("limit", type_=sa.Integer()))
)
"""The posts stored after the newest one a ranking process knows (its catch-up, every call)."""


class RankingInputs(StoreBase):
    async def candidate_posts(self, user_id: int, limit: int) -> list[Row]:
        """The newest posts of the user's channels that the user has not rated."""
        rated = sa.select(interactions.c.post_id).where(interactions.c.user_id == user_id)
        mine = sa.select(user_channels.c.channel_id).where(user_channels.c.user_id == user_id)
        query = (
            sa.select(
                posts.c.id,
                posts.c.text,
                posts.c.channel_id,
                posts.c.media_type,
                posts.c.posted_at,
                channels.c.title.label("channel_title"),
            )
            .join(channels, channels.c.id == posts.c.channel_id)
            .where(posts.c.channel_id.in_(mine), posts.c.id.not_in(rated), posts.c.deleted_at.is_(None))
            .order_by(posts.c.posted_at.desc(), posts.c.id.desc())
            .limit(limit)
        )
        return _rows(await self.database.fetch_all(query))

    async def recent_post_texts(self, limit: int) -> list[str]:
        """The texts of the newest posts: the corpus sample word weights come from."""
        records = await self.database.fetch_all(
            sa.select(posts.c.text).order_by(posts.c.id.desc()).limit(limit)
        )
        return [record[0] or "" for record in records]

    async def channel_like_rates(self, channel_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
        """Per channel, (likes, ratings) over every user: the cold-start prior."""
        if not channel_ids:
            return {}
        likes = sa.func.count().filter(interactions.c.interaction_type == InteractionType.LIKE.value)
        query = (
            sa.select(posts.c.channel_id, likes.label("likes"), sa.func.count().label("ratings"))
            .join(interactions, interactions.c.post_id == posts.c.id)
            .where(posts.c.channel_id.in_(list(channel_ids)))
            .group_by(posts.c.channel_id)
        )
        records = await self.database.fetch_all(query)
        return {
            int(record["channel_id"]): (int(record["likes"] or 0), int(record["ratings"]))
            for record in records
        }

    async def post_keys(self, after_id: int, also_ids: Sequence[int] = (), limit: int = 20_000) -> list[Row]:
        """Posts' (id, channel_id, posted_at) after `after_id`, plus `also_ids`, by id."""
        if not also_ids:
            return _rows(await self.database.fetch_all(self._bound(POSTS_AFTER, after_id=after_id, limit=limit)))
        chosen = sa.or_(posts.c.id > after_id, posts.c.id.in_(list(also_ids)))
        query = (
            sa.select(posts.c.id, posts.c.channel_id, posts.c.posted_at)
            .where(chosen)
            .order_by(posts.c.id)
            .limit(limit)
        )
        return _rows(await self.database.fetch_all(query))

    async def post_texts(self, post_ids: Sequence[int]) -> dict[int, str]:
        """The texts of these posts by id (deleted ones are missing)."""
        found: dict[int, str] = {}
        ids = list(post_ids)
        for start in range(0, len(ids), INSERT_CHUNK):
            records = await self.database.fetch_all(
                sa.select(posts.c.id, posts.c.text).where(posts.c.id.in_(ids[start : start + INSERT_CHUNK]))
            )
            found.update({int(record[0]): record[1] or "" for record in records})
        return found

    async def rating_keys(self, user_id: int) -> list[Row]:
        """The user's ratings, oldest first: post id, its channel and time, the kind."""
        return _rows(await self.database.fetch_all(self._bound(RATING_KEYS, user_id=user_id)))

    async def co_ratings(self, user_id: int, limit: int = 5000) -> list[Row]:
        """Other people's ratings of posts this user rated, newest first (at most `limit`)."""
        mine = sa.select(interactions.c.post_id).where(interactions.c.user_id == user_id)
        query = (
            sa.select(interactions.c.user_id, interactions.c.post_id, interactions.c.interaction_type)
            .where(interactions.c.post_id.in_(mine), interactions.c.user_id != user_id)
            .order_by(interactions.c.id.desc())
            .limit(limit)
        )
        return _rows(await self.database.fetch_all(query))

    async def ratings_by(self, user_ids: Sequence[int], limit: int = 5000) -> list[Row]:
        """These people's ratings, newest first (at most `limit`)."""
        if not user_ids:
            return []
        query = (
            sa.select(interactions.c.user_id, interactions.c.post_id, interactions.c.interaction_type)
            .where(interactions.c.user_id.in_(list(user_ids)))
            .order_by(interactions.c.id.desc())
            .limit(limit)
        )
        return _rows(await self.database.fetch_all(query))

    async def feed_posts(self, post_ids: Sequence[int]) -> list[Row]:
        """These posts as the feed shows them, with the channel's title (deleted ones, and those
        deleted on Telegram, missing)."""
        if not post_ids:
            return []
        return _rows(await self.database.fetch_all(self._bound(FEED_POSTS, post_ids=list(post_ids))))
