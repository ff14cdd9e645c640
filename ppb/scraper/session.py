"""The scraper session: one Telethon client, its entity cache, and a queue that waits out FloodWaits.

Every Telegram request goes through one worker, one job at a time, so a FloodWait stops
them all: the job that met it stays at the head of the queue and runs again once the wait
is over (a history read carries on from the page that was refused), and every caller in
the meantime is answered at once with the time left.

Posts follow their channel: new posts, edits and deletions in joined channels arrive as
updates (`live.py`); a channel that becomes private, is deleted or changes its username is
noticed by the next request about it (and, when joined, by Telegram's update about it). A
session Telegram no longer accepts (revoked, expired) is said once, as an error, in the
log, `status()` and the `ppb_scraper_logged_in` metric; the scraper then stops asking and
answers 503 while the rest of PPB serves what is stored.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from telethon import errors, events
from telethon.tl import types
from telethon.tl.functions.channels import GetFullChannelRequest, JoinChannelRequest

from ppb import metrics
from ppb.domain.channels import ChannelName
from ppb.domain.errors import DomainError
from ppb.scraper.errors import ChannelPrivate, ChannelUnreadable, NotFound, ScraperUnavailable, TooManyChannels
from ppb.scraper.history import HistoryRead
from ppb.scraper.live import LiveUpdates
from ppb.scraper.messages import ReadPost, read_post
from ppb.scraper.sync import channel_cursor, marked_channel_id, save_channel, save_posts
from ppb.store.queries import Row, Store, utcnow

log = logging.getLogger("ppb.scraper")

Answer = dict[str, Any]

LOGGED_OUT = (
    "TELETHON_SESSION is no longer logged in ({reason}): Telegram ended this session (terminated "
    "in Settings > Devices, expired, or used from two places at once). Make a new one with "
    "`ppb telegram-login`, set TELETHON_SESSION and restart; stored posts keep serving meanwhile"
)
"""What the operator reads in the log, `ppb status` and every 503 once the session is gone."""


class TelegramClient(Protocol):
    """The part of Telethon's `TelegramClient` the scraper uses."""

    async def connect(self) -> None: ...
    async def disconnect(self) -> None: ...
    async def is_user_authorized(self) -> bool: ...
    async def get_entity(self, entity: str | int) -> Any: ...
    def iter_messages(self, entity: Any, limit: int | None = None, **kwargs: Any) -> Any: ...
    async def get_messages(self, entity: Any, *args: Any, **kwargs: Any) -> Any: ...
    def iter_dialogs(self) -> Any: ...
    async def __call__(self, request: Any) -> Any: ...
    def add_event_handler(self, callback: Callable[..., Any], event: Any) -> None: ...


ClientFactory = Callable[[], TelegramClient]


@dataclass(eq=False)
class _Job:
    key: str
    run: Callable[[], Awaitable[Answer]]
    answer: asyncio.Future[Answer] | None = field(default=None)
    """The caller's answer; None for background jobs nobody waits for."""


def channel_out(row: Row) -> dict[str, Any]:
    return {key: row[key] for key in ("id", "telegram_id", "username", "title", "is_default")}


class Scraper:
    """Scrapes and joins channels for one Telethon session; a plain class, wrapped by the actor."""

    def __init__(
        self,
        store: Store,
        client_factory: ClientFactory,
        *,
        name: str = "default",
        refresh_interval: float = 300.0,
        refresh_limit: int = 7,
        catch_up_limit: int = 500,
        max_channels: int = 300,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.name = name
        self._store = store
        self._factory = client_factory
        self._refresh_interval = refresh_interval
        self._refresh_limit = refresh_limit
        self._catch_up_limit = catch_up_limit
        self._max_channels = max_channels
        self._clock = clock
        self._sleep = sleep
        self._client: TelegramClient | None = None
        self._start_lock = asyncio.Lock()
        self._entities: dict[str | int, Any] = {}
        self._watched: dict[int, Any] = {}
        self._jobs: deque[_Job] = deque()
        self._has_jobs = asyncio.Event()
        self._flood_until = 0.0
        self._tasks: list[asyncio.Task[None]] = []
        self._logged_out: str | None = None
        self._live = LiveUpdates(store, name, self._watched.get, self._queue_refresh, self.queue_channel_check,
                                 self.queue_album_check)

    def __repr__(self) -> str:
        return f"Scraper(name={self.name!r}, started={self._client is not None}, watched={len(self._watched)})"

    # public API ------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect and log in (once); then listen for updates and refresh periodically."""
        if self._client is not None:
            return
        async with self._start_lock:
            if self._client is not None:
                return
            if self._logged_out is not None:
                raise ScraperUnavailable(self._logged_out)
            client = self._factory()
            try:
                await client.connect()
                authorized = await client.is_user_authorized()
            except (OSError, ConnectionError) as error:
                raise ScraperUnavailable(f"cannot reach Telegram ({type(error).__name__}); try again shortly") from None
            if not authorized:
                await client.disconnect()
                self._lose_session("not logged in")
                assert self._logged_out is not None
                raise ScraperUnavailable(self._logged_out)
            client.add_event_handler(self._live.on_new_message, events.NewMessage())
            client.add_event_handler(self._live.on_edited, events.MessageEdited())
            client.add_event_handler(self._live.on_deleted, events.MessageDeleted())
            client.add_event_handler(self._live.on_channel_changed, events.Raw(types.UpdateChannel))
            self._client = client
            metrics.record("ppb_scraper_logged_in", 1.0, session=self.name)
            await self._watch_joined()
            self._tasks = [asyncio.create_task(self._work()), asyncio.create_task(self._refresh_forever())]
            log.info("scraper %s started, watching %d channel(s)", self.name, len(self._watched))

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        await self._drop_client()

    async def scrape(self, channel: str, limit: int) -> Answer:
        """Read a channel's posts into the store: the newest `limit`, later only what is new."""
        ref = _parse(channel)
        reads: dict[tuple[Any, ...], HistoryRead] = {}

        async def run() -> Answer:
            entity = await self._resolve(ref)
            return await self._guarded(entity, self._scrape_entity(entity, limit, reads))

        return await self._submit(_Job(f"scrape:{ref!r}:{limit}", run), channel)

    async def join(self, channel: str) -> Answer:
        """Join a channel so its new posts arrive as they are posted."""
        ref = _parse(channel)

        async def run() -> Answer:
            entity = await self._resolve(ref)
            return await self._guarded(entity, self._join_entity(entity))

        return await self._submit(_Job(f"join:{ref!r}", run), channel)

    def refresh_all(self) -> None:
        """Queue a refresh of every watched channel (one per channel, however often asked)."""
        if self._client is None:
            return
        for telegram_id, entity in list(self._watched.items()):
            self._queue_refresh(telegram_id, entity)

    async def connect(self) -> None:
        """Connect the store it writes to (a process of its own, the scraper actor)."""
        await self._store.connect()

    def status(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "started": self._client is not None,
            "watched": len(self._watched),
            "queued": len(self._jobs),
            "flood_wait": self._flood_left(),
            "problem": self._logged_out,
        }

    # the queue -------------------------------------------------------------------------

    async def _submit(self, job: _Job, channel: str) -> Answer:
        await self.start()
        job.answer = asyncio.get_running_loop().create_future()
        self._enqueue(job)
        if self._flood_left():
            self._answer_flood(job, channel)
        return await asyncio.shield(job.answer)

    def _enqueue(self, job: _Job) -> bool:
        if job.answer is None and any(queued.key == job.key for queued in self._jobs):
            return False
        self._jobs.append(job)
        self._has_jobs.set()
        return True

    def _flood_left(self) -> int:
        return max(0, math.ceil(self._flood_until - self._clock()))

    def _answer_flood(self, job: _Job, channel: str | None = None) -> None:
        if job.answer is not None and not job.answer.done():
            job.answer.set_result(
                {
                    "status": "flood_wait",
                    "flood_wait": self._flood_left(),
                    "queued": True,
                    "detail": "Telegram asked this session to wait; the request is queued and runs after the wait",
                }
            )

    async def _work(self) -> None:
        while True:
            await self._has_jobs.wait()
            job = self._jobs[0]
            left = self._flood_until - self._clock()
            if left > 0:
                for queued in self._jobs:
                    self._answer_flood(queued)
                await self._sleep(left)
                continue
            try:
                result = await job.run()
            except errors.FloodWaitError as error:
                self._flood_until = self._clock() + error.seconds
                metrics.record("ppb_scraper_flood_waits_total")
                log.warning("scraper %s: FloodWait of %d s; %d job(s) queued", self.name, error.seconds, len(self._jobs))
                continue
            except (errors.UnauthorizedError, errors.AuthKeyError) as error:
                self._lose_session(rpc_name(error))
                assert self._logged_out is not None
                gone = ScraperUnavailable(self._logged_out)
                while self._jobs:
                    self._finish(self._jobs[0], error=gone)
                await self._drop_client()
            except Exception as error:  # every failure is answered; the worker keeps going
                self._finish(job, error=_translate(error, job.key))
            else:
                self._finish(job, result=result)

    def _finish(self, job: _Job, *, result: Answer | None = None, error: DomainError | None = None) -> None:
        self._jobs.popleft()
        metrics.record("ppb_scraper_jobs_total", kind=job.key.split(":", 1)[0], outcome="failed" if error else "done")
        metrics.record("ppb_scraper_queue", float(len(self._jobs)), session=self.name)
        if not self._jobs:
            self._has_jobs.clear()
        if job.answer is None:
            if error is not None:
                log.warning("scraper %s: %s failed: %s", self.name, job.key, error.detail)
            return
        if job.answer.done():
            return  # the caller was already told about a FloodWait; the result is in the store
        if error is not None:
            job.answer.set_exception(error)
        else:
            job.answer.set_result(result or {})

    def _queue(self, key: str, run: Callable[[], Awaitable[Answer]]) -> None:
        """A background job (nobody waits for its answer; one of each key queued at a time)."""
        if self._client is not None:
            self._enqueue(_Job(key, run))

    # the session -------------------------------------------------------------------------

    def _lose_session(self, reason: str) -> None:
        """Telegram no longer accepts the session: an error for the operator, said once."""
        first = self._logged_out is None
        self._logged_out = LOGGED_OUT.format(reason=reason)
        metrics.record("ppb_scraper_logged_in", 0.0, session=self.name)
        if first:
            log.error("scraper %s: %s", self.name, self._logged_out)

    async def _drop_client(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.disconnect()

    # refreshing ------------------------------------------------------------------------

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(self._refresh_interval)
            self.refresh_all()

    def _queue_refresh(self, telegram_id: int, entity: Any) -> None:
        reads: dict[tuple[Any, ...], HistoryRead] = {}

        async def run() -> Answer:
            current = self._watched.get(telegram_id, entity)
            return await self._guarded(current, self._scrape_entity(current, self._refresh_limit, reads))

        self._queue(f"refresh:{telegram_id}", run)

    async def _watch_joined(self) -> None:
        """Channels this session has joined and the store knows are watched after a restart."""
        known = {row["telegram_id"] for row in await self._store.list_channels()}
        async for dialog in self._connected().iter_dialogs():
            entity = dialog.entity
            if _is_broadcast(entity):
                telegram_id = marked_channel_id(entity.id)
                self._remember(entity)
                if telegram_id in known:
                    self._watched[telegram_id] = entity

    # Telegram --------------------------------------------------------------------------

    def _connected(self) -> TelegramClient:
        if self._client is None:
            raise ScraperUnavailable(self._logged_out or "the scraper is not connected to Telegram")
        return self._client

    def _remember(self, entity: Any) -> None:
        """The channel as Telegram showed it last; a username it no longer has is forgotten."""
        telegram_id = marked_channel_id(entity.id)
        previous = self._entities.get(telegram_id)
        old_name = getattr(previous, "username", None)
        if old_name and old_name.lower() != (getattr(entity, "username", None) or "").lower():
            self._entities.pop(old_name.lower(), None)
        self._entities[telegram_id] = entity
        if getattr(entity, "username", None):
            self._entities[entity.username.lower()] = entity
        if telegram_id in self._watched:
            self._watched[telegram_id] = entity

    def _forget(self, entity: Any, why: str) -> None:
        """A channel this session can no longer read: not watched, not cached; its posts stay."""
        telegram_id = marked_channel_id(entity.id)
        self._entities.pop(telegram_id, None)
        if getattr(entity, "username", None):
            self._entities.pop(entity.username.lower(), None)
        if self._watched.pop(telegram_id, None) is not None:
            log.warning("scraper %s: channel %s (%s) %s: no longer watched; its stored posts stay",
                        self.name, telegram_id, getattr(entity, "title", "?"), why)

    async def _guarded(self, entity: Any, work: Awaitable[Answer]) -> Answer:
        """`work` about one channel; a channel gone private or deleted is forgotten and said so."""
        try:
            return await work
        except (errors.ChannelPrivateError, errors.ChannelBannedError):
            self._forget(entity, "became private (or closed to this session)")
            raise _private(entity) from None
        except errors.ChannelInvalidError:
            self._forget(entity, "was deleted")
            raise NotFound(f"channel {_name(entity)} no longer exists on Telegram") from None

    async def _resolve(self, ref: ChannelName) -> Any:
        """The channel's entity, asked of Telegram once per session and then cached."""
        key: str | int = ref.username if ref.username else int(ref.telegram_id or 0)
        cached = self._entities.get(key)
        if cached is not None:
            return cached
        try:
            entity = await self._connected().get_entity(key)
        except ValueError:
            hint = "" if ref.username else " (a numeric id works once this session has seen the channel)"
            raise NotFound(f"channel {ref!r} was not found on Telegram{hint}") from None
        except errors.UsernameNotOccupiedError:
            raise NotFound(f"channel {ref!r} was not found on Telegram") from None
        except errors.UsernameInvalidError:
            raise ChannelUnreadable(f"channel_username: {ref!r} is not a valid Telegram username") from None
        except (errors.ChannelPrivateError, errors.ChannelBannedError):
            raise ChannelPrivate(f"{ref!r} is a private channel (or closed to PPB): only its members can read it") from None
        if isinstance(entity, types.ChannelForbidden):
            raise ChannelPrivate(f"{ref!r} is a private channel (or closed to PPB): only its members can read it")
        if not _is_broadcast(entity):
            kind = "a group" if getattr(entity, "megagroup", False) else "a user or a group chat"
            raise ChannelUnreadable(f"{ref!r} is {kind}, not a channel")
        self._remember(entity)
        return entity

    async def _join_entity(self, entity: Any) -> Answer:
        if marked_channel_id(entity.id) not in self._watched and len(self._watched) >= self._max_channels:
            raise TooManyChannels(
                f"the scraper already watches {len(self._watched)} channels, its limit "
                "(PPB_SCRAPER_MAX_CHANNELS); channels already stored still work"
            )
        status = "joined"
        try:
            answer = await self._connected()(JoinChannelRequest(entity))
        except errors.UserAlreadyParticipantError:
            status = "already_joined"
        except errors.InviteRequestSentError:
            status = "requested"
        except errors.ChannelsTooMuchError:
            raise ChannelUnreadable("this session is in too many channels; leave some first") from None
        else:
            entity = next((chat for chat in answer.chats if chat.id == entity.id), entity)
            self._remember(entity)
        row = await self._save_channel(entity)
        if status != "requested":
            self._watched[row["telegram_id"]] = entity
        return {"status": status, "channel": channel_out(row)}

    async def _save_channel(self, entity: Any) -> Row:
        return await save_channel(self._store, marked_channel_id(entity.id), entity.username, entity.title)

    async def _check_channel(self, entity: Any) -> Answer:
        """Ask Telegram how a channel is now (Telegram said it changed): a new username or title
        is stored; private or deleted, it is forgotten."""
        full = await self._connected()(GetFullChannelRequest(entity))
        fresh = next((chat for chat in full.chats if chat.id == entity.id), None)
        if isinstance(fresh, types.ChannelForbidden):
            self._forget(entity, "became private (or closed to this session)")
            return {"status": "private"}
        if fresh is not None:
            self._remember(fresh)
            await self._save_channel(fresh)
        return {"status": "ok"}

    def queue_channel_check(self, telegram_id: int) -> None:
        entity = self._entities.get(telegram_id)
        if entity is None:
            return

        async def run() -> Answer:
            try:
                return await self._guarded(entity, self._check_channel(entity))
            except DomainError:  # let go of, and logged as such
                return {"status": "gone"}

        self._queue(f"channel:{telegram_id}", run)

    async def _scrape_entity(self, entity: Any, limit: int, reads: dict[tuple[Any, ...], HistoryRead]) -> Answer:
        row = await self._save_channel(entity)
        cursor = await channel_cursor(self._store, row["id"])
        rechecked: list[ReadPost] = []  # the newest stored post, read again: its edits
        if cursor.newest is None:
            read = await self._read(entity, limit, reads)
        else:
            newer = await self._read(entity, self._catch_up_limit, reads, min_id=cursor.newest - 1, reverse=True)
            read = [item for item in newer if item.post.telegram_message_id != cursor.newest]
            rechecked = [item for item in newer if item.post.telegram_message_id == cursor.newest]
            missing = limit - cursor.count - len(read)
            if missing > 0 and cursor.oldest is not None and cursor.oldest > 1:
                read += await self._read(entity, missing, reads, max_id=cursor.oldest)
        shown = [r.chat for r in reads.values() if _is_broadcast(r.chat) and r.chat.id == entity.id]
        if shown and (shown[-1].username, shown[-1].title) != (entity.username, entity.title):
            self._remember(shown[-1])  # renamed since it was resolved: the store follows
            row = await self._save_channel(shown[-1])
        created = await save_posts(self._store, row["id"], [item.post for item in read])
        edited = [(item.post, item.edited_at) for item in read + rechecked if item.edited_at is not None]
        if edited:
            await self._store.edit_posts(row["id"], edited)
        stored = (await channel_cursor(self._store, row["id"])).count
        return {
            "status": "ok",
            "channel": channel_out(row),
            "posts_count": len(read),
            "created_count": created,
            "stored_count": stored,
        }

    def queue_album_check(self, telegram_id: int, message_id: int) -> None:
        """An album's part was edited: read the album again (its parts are within 9 ids of
        each other) and store the post as it is now."""
        entity = self._watched.get(telegram_id)
        if entity is None:
            return

        async def run() -> Answer:
            return await self._guarded(entity, self._recheck_album(entity, message_id))

        self._queue(f"album:{telegram_id}:{message_id}", run)

    async def _recheck_album(self, entity: Any, message_id: int) -> Answer:
        around = list(range(max(1, message_id - 9), message_id + 10))
        messages = [m for m in await self._connected().get_messages(entity, ids=around) if m is not None]
        target = next((m for m in messages if m.id == message_id), None)
        if target is None or not getattr(target, "grouped_id", None):
            return {"status": "gone"}
        read = read_post([m for m in messages if getattr(m, "grouped_id", None) == target.grouped_id])
        if read is not None:
            row = await self._save_channel(entity)
            changed = await self._store.edit_posts(row["id"], [(read.post, read.edited_at or utcnow())])
            if changed:
                metrics.record("ppb_scraper_post_changes_total", float(len(changed)), kind="edited")
        return {"status": "ok"}

    async def _read(
        self, entity: Any, limit: int, reads: dict[tuple[Any, ...], HistoryRead], *,
        min_id: int = 0, max_id: int = 0, reverse: bool = False,
    ) -> list[ReadPost]:
        """Up to `limit` whole posts; a read a FloodWait cut short goes on where it stopped."""
        key = (entity.id, limit, min_id, max_id, reverse)
        if key not in reads:
            reads[key] = HistoryRead(self._connected(), entity, limit, min_id=min_id, max_id=max_id, reverse=reverse)
        return await reads[key].posts()


def rpc_name(error: errors.RPCError) -> str:
    """Telegram's name for an RPC error: Telethon keeps it in `message` only for errors it has
    no class of its own for (`AuthKeyUnregisteredError` -> AUTH_KEY_UNREGISTERED)."""
    kind = type(error)
    if kind.__module__.endswith("rpcbaseerrors") or kind is errors.RPCError:
        return str(error.message)
    return re.sub(r"(?<!^)(?=[A-Z])", "_", kind.__name__.removesuffix("Error")).upper()


def _parse(channel: str) -> ChannelName:
    try:
        return ChannelName.parse(channel)
    except DomainError as error:
        raise ChannelUnreadable(f"channel_username: {error.detail}") from None


def _is_broadcast(entity: Any) -> bool:
    return isinstance(entity, types.Channel) and not getattr(entity, "megagroup", False)


def _name(entity: Any) -> str:
    username = getattr(entity, "username", None)
    return f"@{username}" if username else str(marked_channel_id(entity.id))


def _private(entity: Any) -> ChannelPrivate:
    return ChannelPrivate(f"{_name(entity)} is a private channel (or closed to PPB) now: only its members can read it")


def _translate(error: Exception, what: str) -> DomainError:
    """Any failure of a job as an error a person can read (never a traceback, never a secret)."""
    if isinstance(error, DomainError):
        return error
    if isinstance(error, (errors.ChannelPrivateError, errors.ChannelBannedError)):
        return ChannelPrivate("the channel is private or closed to this session; it cannot be read")
    if isinstance(error, errors.ChannelInvalidError):
        return NotFound("the channel no longer exists on Telegram")
    if isinstance(error, errors.RPCError):
        return ScraperUnavailable(f"Telegram refused the request ({rpc_name(error)})")
    if isinstance(error, (OSError, ConnectionError)):
        return ScraperUnavailable(f"cannot reach Telegram ({type(error).__name__}); try again shortly")
    log.exception("scraper job %s failed", what)
    return ScraperUnavailable("the scraper failed unexpectedly; it has been logged")
