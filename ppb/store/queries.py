"""Every query PPB makes, over one `databases.Database`, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import orjson
import sqlalchemy as sa
from databases import Database
from sqlalchemy.dialects import postgresql, sqlite

from ppb.domain.channels import ChannelRef, normalize_username
from ppb.domain.errors import DomainError, NotFound
from ppb.domain.interactions import InteractionType
from ppb.domain.status import UserEvent, UserStatus, is_trained_after, next_status
from ppb.store.bulk_posts import insert_postgres, insert_sqlite, post_ids_postgres
from ppb.store.sqlite import PPBDatabase, TunedConnection
from ppb.store.schema import (
    channels,
    chat_posts,
    interactions,
    nudges,
    posts,
    training_items,
    user_channels,
    user_logs,
    users,
)

Row = dict[str, Any]
T = TypeVar("T")
INSERT_CHUNK = 500
POST_BATCH = 2000
"""Posts per insert statement: large enough to amortise a round trip, small enough to show progress."""


_holding_write_lock: ContextVar[bool] = ContextVar("ppb_store_write_lock", default=False)


def writes(method: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
    """On SQLite, one writer at a time per process.

    SQLite allows one writer; contending connections wait in its busy handler, which
    sleeps in growing steps. Queuing writers in the event loop instead keeps latency flat.
    Re-entrant within a task, so a write method may call another.
    """

    @functools.wraps(method)
    async def wrapper(self: Store, *args: Any, **kwargs: Any) -> T:
        lock = self._write_lock
        if lock is None or _holding_write_lock.get():
            return await method(self, *args, **kwargs)
        async with lock:
            token = _holding_write_lock.set(True)
            try:
                return await method(self, *args, **kwargs)
            finally:
                _holding_write_lock.reset(token)

    return wrapper


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _row(record: Any) -> Row:
    return dict(record._mapping)


def _rows(records: Sequence[Any]) -> list[Row]:
    """Many records as dicts, reading the already-converted SQLAlchemy row directly.

    `databases` resolves a type processor again on every value access; over a
    10k-row feed query that was most of the time spent.
    """
    if not records:
        return []
    keys = list(records[0]._mapping.keys())
    return [dict(zip(keys, tuple(record._row))) for record in records]


@dataclass(frozen=True, slots=True)
class NewPost:
    telegram_message_id: int
    text: str
    media_type: str
    posted_at: datetime


class Store:
    """Queries grouped by resource; one instance per process, connected once."""

    def __init__(self, async_url: str) -> None:
        options: dict[str, Any] = {"factory": TunedConnection, "timeout": 30.0}
        if async_url.startswith("postgresql"):
            options = {"min_size": 0, "max_size": 10}  # no connection at start: a down database is a 503, not a crash
        self.database: Database = PPBDatabase(async_url, **options)
        self.dialect = "postgresql" if async_url.startswith("postgresql") else "sqlite"
        self._write_lock = asyncio.Lock() if self.dialect == "sqlite" else None

    async def connect(self) -> None:
        await self.database.connect()

    async def disconnect(self) -> None:
        await self.database.disconnect()

    def session(self) -> Any:
        """A context that makes the current task's queries share one connection."""
        return self.database.connection()

    async def ping(self) -> None:
        await self.database.fetch_val("SELECT 1")

    def _insert(self, table: sa.Table) -> Any:
        module = postgresql if self.dialect == "postgresql" else sqlite
        return module.insert(table)

    # users ---------------------------------------------------------------------------

    @writes
    async def upsert_user(
        self,
        telegram_id: int,
        username: str | None,
        first_name: str | None,
        last_name: str | None,
        language: str | None = None,
    ) -> tuple[Row, bool]:
        """Create the user once; returns (user, created). Concurrent calls make one row."""
        now = utcnow()
        statement = (
            self._insert(users)
            .values(
                telegram_id=telegram_id,
                username=username,
                first_name=first_name,
                last_name=last_name,
                language=language,
                status=UserStatus.NEW.value,
                is_trained=False,
                bonus_channels_count=0,
                created_at=now,
                updated_at=now,
                last_activity_at=now,
            )
            .on_conflict_do_nothing(index_elements=[users.c.telegram_id])
            .returning(users.c.id)
        )
        inserted = await self.database.fetch_one(statement)
        if inserted is None:
            changes = {
                key: value
                for key, value in (
                    ("username", username),
                    ("first_name", first_name),
                    ("last_name", last_name),
                    ("language", language),
                )
                if value is not None
            }
            if changes:
                await self.database.execute(
                    users.update()
                    .where(users.c.telegram_id == telegram_id)
                    .values(**changes, updated_at=now)
                )
        return await self.get_user(telegram_id), inserted is not None

    async def find_user(self, telegram_id: int) -> Row | None:
        record = await self.database.fetch_one(
            sa.select(users).where(users.c.telegram_id == telegram_id)
        )
        return _row(record) if record else None

    async def get_user(self, telegram_id: int) -> Row:
        user = await self.find_user(telegram_id)
        if user is None:
            raise NotFound(f"user {telegram_id} not found (create it with POST /api/v1/users/)")
        return user

    async def user_id(self, telegram_id: int) -> int:
        value = await self.database.fetch_val(
            sa.select(users.c.id).where(users.c.telegram_id == telegram_id)
        )
        if value is None:
            raise NotFound(f"user {telegram_id} not found (create it with POST /api/v1/users/)")
        return int(value)

    @writes
    async def apply_event(
        self, telegram_id: int, event: UserEvent, details: dict[str, Any] | None = None
    ) -> Row:
        """Move the user through the state machine; compare-and-set, logged with the change."""
        for _ in range(20):
            user = await self.get_user(telegram_id)
            current = UserStatus(user["status"])
            target = next_status(current, event)
            now = utcnow()
            values: dict[str, Any] = {"last_activity_at": now}
            if target != current:
                values |= {
                    "status": target.value,
                    "is_trained": is_trained_after(target, bool(user["is_trained"])),
                    "updated_at": now,
                }
            async with self.database.transaction():
                changed = await self.database.fetch_one(
                    users.update()
                    .where(users.c.id == user["id"], users.c.status == current.value)
                    .values(**values)
                    .returning(users.c.id)
                )
                if changed is None:
                    continue  # someone else moved this user first: decide again
                if target != current:
                    await self._log(
                        user["id"],
                        f"status:{event.value}",
                        {"from": current.value, "to": target.value, **(details or {})},
                        now,
                    )
            return await self.get_user(telegram_id)
        raise DomainError(f"user {telegram_id} is changing too fast; try again")

    async def _log(self, user_id: int, action: str, details: dict[str, Any], at: datetime) -> None:
        await self.database.execute(
            user_logs.insert().values(user_id=user_id, action=action, details=details, created_at=at)
        )

    async def user_log(self, user_id: int) -> list[Row]:
        records = await self.database.fetch_all(
            sa.select(user_logs).where(user_logs.c.user_id == user_id).order_by(user_logs.c.id)
        )
        rows = _rows(records)
        for row in rows:
            if isinstance(row["details"], str | bytes):  # asyncpg hands JSON back as text
                row["details"] = orjson.loads(row["details"])
        return rows

    # channels ------------------------------------------------------------------------

    @writes
    async def upsert_channel(
        self, telegram_id: int, username: str | None, title: str, is_default: bool = False
    ) -> Row:
        """Create or refresh a channel by its Telegram id (titles and usernames change)."""
        name = normalize_username(username)
        if name is not None:
            holder = await self.database.fetch_val(
                sa.select(channels.c.telegram_id).where(channels.c.username == name)
            )
            if holder is not None and int(holder) != telegram_id:
                raise DomainError(
                    f"username: @{name} already belongs to channel {holder}, not {telegram_id}"
                )
        now = utcnow()
        statement = self._insert(channels).values(
            telegram_id=telegram_id, username=name, title=title, is_default=is_default, created_at=now
        )
        updates: dict[str, Any] = {"username": name, "title": title}
        if is_default:
            updates["is_default"] = True
        await self.database.execute(
            statement.on_conflict_do_update(index_elements=[channels.c.telegram_id], set_=updates)
        )
        return await self.get_channel(ChannelRef(telegram_id=telegram_id))

    async def get_channel(self, ref: ChannelRef) -> Row:
        found = await self.find_channels([ref])
        if not found:
            raise NotFound(f"channel {ref!r} not found")
        return found[0]

    async def find_channels(self, refs: Sequence[ChannelRef]) -> list[Row]:
        """The channels named, in the order named; unknown ones are left out."""
        names = [ref.username for ref in refs if ref.username]
        ids = [ref.telegram_id for ref in refs if ref.telegram_id is not None]
        if not names and not ids:
            return []
        records = await self.database.fetch_all(
            sa.select(channels).where(
                sa.or_(channels.c.username.in_(names), channels.c.telegram_id.in_(ids))
            )
        )
        by_name = {record["username"]: _row(record) for record in records if record["username"]}
        by_id = {record["telegram_id"]: _row(record) for record in records}
        ordered: list[Row] = []
        for ref in refs:
            row = by_name.get(ref.username) if ref.username else by_id.get(ref.telegram_id)
            if row is not None and row not in ordered:
                ordered.append(row)
        return ordered

    async def list_channels(self) -> list[Row]:
        records = await self.database.fetch_all(sa.select(channels).order_by(channels.c.id))
        return _rows(records)

    # a user's channels ---------------------------------------------------------------

    @writes
    async def link_channels(
        self, user_id: int, channel_ids: Iterable[int], *, for_training: bool, bonus: bool = False
    ) -> None:
        """Link channels to a user; an existing link is kept and only gains flags."""
        now = utcnow()
        for channel_id in channel_ids:
            statement = self._insert(user_channels).values(
                user_id=user_id,
                channel_id=channel_id,
                is_for_training=for_training,
                is_bonus=bonus,
                created_at=now,
            )
            updates: dict[str, Any] = {}
            if for_training:
                updates["is_for_training"] = True
            if bonus:
                updates["is_bonus"] = True
            if updates:
                statement = statement.on_conflict_do_update(
                    index_elements=[user_channels.c.user_id, user_channels.c.channel_id], set_=updates
                )
            else:
                statement = statement.on_conflict_do_nothing(
                    index_elements=[user_channels.c.user_id, user_channels.c.channel_id]
                )
            await self.database.execute(statement)

    @writes
    async def add_user_channel(
        self, user_id: int, channel_id: int, *, for_training: bool, bonus: bool
    ) -> tuple[Row, bool]:
        """Link one channel; returns (link, created). A new bonus link counts toward the user;
        a channel the user already has stays as it is (no bonus slot is taken for it)."""
        existing = await self._user_channel(user_id, channel_id)
        async with self.database.transaction():
            await self.link_channels(user_id, [channel_id], for_training=for_training, bonus=bonus and not existing)
            if bonus and not existing:
                await self.database.execute(
                    users.update()
                    .where(users.c.id == user_id)
                    .values(bonus_channels_count=users.c.bonus_channels_count + 1)
                )
        link = await self._user_channel(user_id, channel_id)
        assert link is not None
        return link, existing is None

    async def _user_channel(self, user_id: int, channel_id: int) -> Row | None:
        records = await self.list_user_channels(user_id, channel_id=channel_id)
        return records[0] if records else None

    async def list_user_channels(self, user_id: int, channel_id: int | None = None) -> list[Row]:
        query = (
            sa.select(
                channels,
                user_channels.c.is_for_training,
                user_channels.c.is_bonus,
                user_channels.c.created_at.label("linked_at"),
            )
            .join(user_channels, user_channels.c.channel_id == channels.c.id)
            .where(user_channels.c.user_id == user_id)
            .order_by(user_channels.c.id)
        )
        if channel_id is not None:
            query = query.where(channels.c.id == channel_id)
        return _rows(await self.database.fetch_all(query))

    @writes
    async def remove_user_channel(self, user_id: int, channel_id: int) -> bool:
        link = await self._user_channel(user_id, channel_id)
        if link is None:
            return False
        async with self.database.transaction():
            await self.database.execute(
                user_channels.delete().where(
                    user_channels.c.user_id == user_id, user_channels.c.channel_id == channel_id
                )
            )
            await self.database.execute(  # its posts leave the training set too
                training_items.delete().where(
                    training_items.c.user_id == user_id,
                    training_items.c.post_id.in_(sa.select(posts.c.id).where(posts.c.channel_id == channel_id)),
                )
            )
            if link["is_bonus"]:
                await self.database.execute(
                    users.update()
                    .where(users.c.id == user_id, users.c.bonus_channels_count > 0)
                    .values(bonus_channels_count=users.c.bonus_channels_count - 1)
                )
        return True

    # posts ---------------------------------------------------------------------------

    @writes
    async def insert_posts(self, channel_id: int, batch: Sequence[NewPost]) -> int:
        """Insert one batch of posts in one statement and transaction; returns how many were
        new (posts already stored are left as they are)."""
        inserted = await self._insert_batch(channel_id, batch)
        return len(inserted) if isinstance(inserted, dict) else int(inserted)

    async def _insert_batch(self, channel_id: int, batch: Sequence[NewPost]) -> Any:
        """PostgreSQL: the new rows' ids by message id; SQLite: how many were new."""
        insert = insert_postgres if self.dialect == "postgresql" else insert_sqlite
        async with self.session() as connection:
            async with self.database.transaction():
                return await insert(connection.raw_connection, channel_id, batch, utcnow())

    @writes
    async def add_posts(self, channel_id: int, new_posts: Sequence[NewPost]) -> tuple[int, list[int]]:
        """Insert posts once; returns (created_count, one id per sent post, in order)."""
        first: dict[int, NewPost] = {}
        for post in new_posts:
            first.setdefault(post.telegram_message_id, post)
        unique = list(first.values())
        created = 0
        ids: dict[int, int] = {}
        for start in range(0, len(unique), POST_BATCH):
            inserted = await self._insert_batch(channel_id, unique[start : start + POST_BATCH])
            if isinstance(inserted, dict):  # PostgreSQL said which ids it made
                ids.update(inserted)
                inserted = len(inserted)
            created += inserted
        missing = [key for key in first if key not in ids]  # re-sent posts (every post on SQLite)
        for start in range(0, len(missing), INSERT_CHUNK):
            ids.update(await self._post_ids(channel_id, missing[start : start + INSERT_CHUNK]))
        return created, [ids[post.telegram_message_id] for post in new_posts]

    async def _post_ids(self, channel_id: int, message_ids: Sequence[int]) -> dict[int, int]:
        if self.dialect == "postgresql":
            async with self.session() as connection:
                return await post_ids_postgres(connection.raw_connection, channel_id, message_ids)
        records = await self.database.fetch_all(
            sa.select(posts.c.telegram_message_id, posts.c.id).where(
                posts.c.channel_id == channel_id, posts.c.telegram_message_id.in_(list(message_ids))
            )
        )
        return {int(record[0]): int(record[1]) for record in records}

    async def post_cursor(self, channel_id: int) -> tuple[int | None, int | None, int]:
        """A channel's stored posts: (newest message id, oldest message id, how many)."""
        record = await self.database.fetch_one(
            sa.select(
                sa.func.max(posts.c.telegram_message_id),
                sa.func.min(posts.c.telegram_message_id),
                sa.func.count(),
            ).where(posts.c.channel_id == channel_id)
        )
        assert record is not None
        newest, oldest, count = tuple(record._mapping.values())
        return (
            int(newest) if newest is not None else None,
            int(oldest) if oldest is not None else None,
            int(count or 0),
        )

    async def latest_posts(
        self, channel_ids: Sequence[int], per_channel: int, unrated_by: int | None = None
    ) -> list[Row]:
        """The newest `per_channel` posts of each channel (those `unrated_by` has not rated)."""
        rank = (
            sa.func.row_number()
            .over(partition_by=posts.c.channel_id, order_by=(posts.c.posted_at.desc(), posts.c.id.desc()))
            .label("rank")
        )
        chosen = sa.select(posts, rank).where(posts.c.channel_id.in_(list(channel_ids)))
        if unrated_by is not None:
            rated = sa.select(interactions.c.post_id).where(interactions.c.user_id == unrated_by)
            chosen = chosen.where(posts.c.id.not_in(rated))
        ranked = chosen.subquery()
        query = (
            sa.select(
                ranked.c.id,
                ranked.c.channel_id,
                ranked.c.telegram_message_id,
                ranked.c.text,
                ranked.c.media_type,
                ranked.c.posted_at,
                channels.c.username.label("channel_username"),
                channels.c.title.label("channel_title"),
                channels.c.telegram_id.label("channel_telegram_id"),
            )
            .join(channels, channels.c.id == ranked.c.channel_id)
            .where(ranked.c.rank <= per_channel)
        )
        records = _rows(await self.database.fetch_all(query))
        order = {channel_id: index for index, channel_id in enumerate(channel_ids)}
        records.sort(key=lambda row: (order[row["channel_id"]], -as_utc(row["posted_at"]).timestamp()))
        return records

    # interactions --------------------------------------------------------------------

    @writes
    async def rate(self, telegram_id: int, post_id: int, kind: InteractionType) -> Row:
        """Store a rating; rating the same post again replaces the earlier rating.

        The row carries the rater's status as `user_status` (a churned user is back)."""
        now = utcnow()
        chosen = sa.select(
            users.c.id, sa.literal(post_id, sa.BigInteger), sa.literal(kind.value), sa.literal(now, sa.DateTime(timezone=True))
        ).where(
            users.c.telegram_id == telegram_id,
            sa.exists(sa.select(posts.c.id).where(posts.c.id == post_id)),
        )
        statement = (
            self._insert(interactions)
            .from_select(["user_id", "post_id", "interaction_type", "created_at"], chosen)
            .on_conflict_do_update(
                index_elements=[interactions.c.user_id, interactions.c.post_id],
                set_={"interaction_type": kind.value, "created_at": now},
            )
            .returning(*interactions.c)
        )
        record = await self.database.fetch_one(statement)
        if record is None:
            await self.user_id(telegram_id)  # raises NotFound for an unknown user
            raise NotFound(f"post {post_id} not found")
        row = _row(record)
        row["user_status"] = await self.database.fetch_val(
            users.update()
            .where(users.c.id == row["user_id"])
            .values(last_activity_at=now)
            .returning(users.c.status)
        )
        return row

    async def rating_count(self, user_id: int) -> int:
        return int(await self.database.fetch_val(
            sa.select(sa.func.count()).select_from(interactions).where(interactions.c.user_id == user_id)
        ) or 0)

    async def list_interactions(self, user_id: int) -> list[Row]:
        records = await self.database.fetch_all(
            sa.select(interactions)
            .where(interactions.c.user_id == user_id)
            .order_by(interactions.c.created_at, interactions.c.id)
        )
        return _rows(records)

    # ranking inputs ------------------------------------------------------------------

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
            .where(posts.c.channel_id.in_(mine), posts.c.id.not_in(rated))
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
        chosen = posts.c.id > after_id
        if also_ids:
            chosen = sa.or_(chosen, posts.c.id.in_(list(also_ids)))
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
        query = (
            sa.select(
                interactions.c.post_id,
                posts.c.channel_id,
                posts.c.posted_at,
                interactions.c.interaction_type,
            )
            .join(posts, posts.c.id == interactions.c.post_id)
            .where(interactions.c.user_id == user_id)
            .order_by(interactions.c.id)
        )
        return _rows(await self.database.fetch_all(query))

    async def feed_posts(self, post_ids: Sequence[int]) -> list[Row]:
        """These posts as the feed shows them, with the channel's title (deleted ones missing)."""
        if not post_ids:
            return []
        query = (
            sa.select(
                posts.c.id,
                posts.c.text,
                posts.c.channel_id,
                posts.c.media_type,
                posts.c.posted_at,
                channels.c.title.label("channel_title"),
                posts.c.telegram_message_id,  # with the username: a link to the original
                channels.c.username.label("channel_username"),
            )
            .join(channels, channels.c.id == posts.c.channel_id)
            .where(posts.c.id.in_(list(post_ids)))
        )
        return _rows(await self.database.fetch_all(query))

    # the training set ----------------------------------------------------------------

    @writes
    async def set_training(self, user_id: int, post_ids: Sequence[int], *, append: bool = False) -> None:
        """Make these posts the user's training set, in this order (or add them at its end)."""
        now = utcnow()
        async with self.database.transaction():
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
        query = (
            sa.select(
                posts.c.id,
                posts.c.channel_id,
                posts.c.telegram_message_id,
                posts.c.text,
                posts.c.media_type,
                posts.c.posted_at,
                channels.c.username.label("channel_username"),
                channels.c.title.label("channel_title"),
                interactions.c.interaction_type.label("rating"),
            )
            .select_from(training_items)
            .join(posts, posts.c.id == training_items.c.post_id)
            .join(channels, channels.c.id == posts.c.channel_id)
            .outerjoin(
                interactions,
                sa.and_(interactions.c.post_id == posts.c.id, interactions.c.user_id == user_id),
            )
            .where(training_items.c.user_id == user_id)
            .order_by(training_items.c.position)
        )
        return _rows(await self.database.fetch_all(query))

    # the chat's feed -------------------------------------------------------------------

    async def chat_post_ids(self, user_id: int) -> set[int]:
        records = await self.database.fetch_all(
            sa.select(chat_posts.c.post_id).where(chat_posts.c.user_id == user_id)
        )
        return {int(record[0]) for record in records}

    @writes
    async def add_chat_posts(self, user_id: int, post_ids: Sequence[int]) -> None:
        """Remember feed posts sent into the user's chat (so they are never sent again)."""
        if not post_ids:
            return
        now = utcnow()
        await self.database.execute(
            self._insert(chat_posts)
            .values([{"user_id": user_id, "post_id": post_id, "created_at": now} for post_id in post_ids])
            .on_conflict_do_nothing(index_elements=[chat_posts.c.user_id, chat_posts.c.post_id])
        )

    # retention -----------------------------------------------------------------------

    async def due_for_nudge(
        self, now: datetime, quiet_after: float, daily_cap: int, limit: int
    ) -> list[Row]:
        """Trained or active users quiet for `quiet_after` seconds, not nudged since they went
        quiet and under the daily cap, quietest first: one query, whatever the user count."""
        nudged_since_quiet = sa.exists().where(
            nudges.c.user_id == users.c.id, nudges.c.created_at >= users.c.last_activity_at
        )
        today = (
            sa.select(sa.func.count())
            .where(nudges.c.user_id == users.c.id, nudges.c.created_at >= now - timedelta(days=1))
            .scalar_subquery()
        )
        query = (
            sa.select(users.c.id, users.c.telegram_id, users.c.language)
            .where(
                users.c.status.in_(["trained", "active"]),
                users.c.last_activity_at < now - timedelta(seconds=quiet_after),
                ~nudged_since_quiet,
                today < daily_cap,
            )
            .order_by(users.c.last_activity_at, users.c.id)
            .limit(limit)
        )
        return _rows(await self.database.fetch_all(query))

    async def due_for_churn(self, now: datetime, churn_after: float, limit: int) -> list[int]:
        """Telegram ids of active users quiet for `churn_after` seconds."""
        query = (
            sa.select(users.c.telegram_id)
            .where(
                users.c.status == "active",
                users.c.last_activity_at < now - timedelta(seconds=churn_after),
            )
            .order_by(users.c.last_activity_at, users.c.id)
            .limit(limit)
        )
        return [int(record[0]) for record in await self.database.fetch_all(query)]

    async def nudged_post_ids(self, user_id: int) -> set[int]:
        records = await self.database.fetch_all(
            sa.select(nudges.c.post_id).where(nudges.c.user_id == user_id)
        )
        return {int(record[0]) for record in records}

    @writes
    async def claim_nudge(self, user_id: int, post_id: int, now: datetime) -> int | None:
        """Record a nudge as pending before it is sent; None when this post was nudged before."""
        statement = (
            self._insert(nudges)
            .values(user_id=user_id, post_id=post_id, status="pending", created_at=now)
            .on_conflict_do_nothing(index_elements=[nudges.c.user_id, nudges.c.post_id])
            .returning(nudges.c.id)
        )
        value = await self.database.fetch_val(statement)
        return int(value) if value is not None else None

    @writes
    async def mark_nudge_undeliverable(self, nudge_id: int) -> None:
        """The chat refused it (the user blocked the bot): kept, so this quiet spell is over."""
        await self.database.execute(
            nudges.update().where(nudges.c.id == nudge_id).values(status="undeliverable")
        )

    @writes
    async def mark_nudge_sent(self, nudge_id: int, message_id: int, now: datetime) -> None:
        await self.database.execute(
            nudges.update()
            .where(nudges.c.id == nudge_id)
            .values(status="sent", message_id=message_id, sent_at=now)
        )

    @writes
    async def drop_nudge(self, nudge_id: int) -> None:
        """Forget a claimed nudge whose post is gone (another post can be nudged instead)."""
        await self.database.execute(nudges.delete().where(nudges.c.id == nudge_id))

    async def pending_nudges(self) -> list[Row]:
        """Nudges claimed but not known to be sent: a pass that stopped half-way."""
        query = (
            sa.select(
                nudges.c.id,
                nudges.c.user_id,
                nudges.c.post_id,
                users.c.telegram_id,
                users.c.language,
            )
            .join(users, users.c.id == nudges.c.user_id)
            .where(nudges.c.status == "pending")
            .order_by(nudges.c.id)
        )
        return _rows(await self.database.fetch_all(query))

    async def list_nudges(self, user_id: int) -> list[Row]:
        records = await self.database.fetch_all(
            sa.select(nudges).where(nudges.c.user_id == user_id).order_by(nudges.c.id)
        )
        return _rows(records)
