"""The scraper session: one Telethon client, its entity cache, and a queue that waits out FloodWaits.

Every Telegram request goes through one worker, one job at a time, so a FloodWait stops
them all: the job that met it stays at the head of the queue and runs again once the wait
is over, and every caller in the meantime is answered at once with the time left.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from telethon import errors, events
from telethon.tl.functions.channels import JoinChannelRequest

from ppb import metrics
from ppb.domain.channels import ChannelRef, parse_channel
from ppb.domain.errors import DomainError
from ppb.scraper.errors import ChannelUnreadable, NotFound, ScraperUnavailable, TooManyChannels
from ppb.scraper.messages import PostAssembler, to_post
from ppb.scraper.sync import channel_cursor, marked_channel_id, save_channel, save_posts
from ppb.store.queries import NewPost, Row, Store

log = logging.getLogger("ppb.scraper")

Answer = dict[str, Any]


class TelegramClient(Protocol):
    """The part of Telethon's `TelegramClient` the scraper uses (and a test fake implements)."""

    async def connect(self) -> None: ...
    async def disconnect(self) -> None: ...
    async def is_user_authorized(self) -> bool: ...
    async def get_entity(self, entity: str | int) -> Any: ...
    def iter_messages(self, entity: Any, limit: int | None = None, **kwargs: Any) -> Any: ...
    def iter_dialogs(self) -> Any: ...
    async def __call__(self, request: Any) -> Any: ...
    def add_event_handler(self, callback: Callable[..., Any], event: Any) -> None: ...


ClientFactory = Callable[[], TelegramClient]


@dataclass(eq=False)
class _Job:
    key: str
    run: Callable[[], Awaitable[Answer]]
    answer: asyncio.Future[Answer] | None = field(default=None)
    """The caller's answer; None for background refreshes nobody waits for."""


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

    def __repr__(self) -> str:
        return f"Scraper(name={self.name!r}, started={self._client is not None}, watched={len(self._watched)})"

    # public API ------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect and log in (once); then listen for new posts and refresh periodically."""
        if self._client is not None:
            return
        async with self._start_lock:
            if self._client is not None:
                return
            client = self._factory()
            try:
                await client.connect()
                authorized = await client.is_user_authorized()
            except (OSError, ConnectionError) as error:
                raise ScraperUnavailable(f"cannot reach Telegram ({type(error).__name__}); try again shortly") from None
            if not authorized:
                await client.disconnect()
                raise ScraperUnavailable(
                    "TELETHON_SESSION is not logged in (revoked or expired): create a new session string"
                )
            client.add_event_handler(self._on_new_message, events.NewMessage())
            self._client = client
            await self._watch_joined()
            self._tasks = [asyncio.create_task(self._work()), asyncio.create_task(self._refresh_forever())]
            log.info("scraper %s started, watching %d channel(s)", self.name, len(self._watched))

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if self._client is not None:
            client, self._client = self._client, None
            await client.disconnect()

    async def scrape(self, channel: str, limit: int) -> Answer:
        """Read a channel's posts into the store: the newest `limit`, later only what is new."""
        ref = _parse(channel)

        async def run() -> Answer:
            entity = await self._resolve(ref)
            return await self._scrape_entity(entity, limit)

        return await self._submit(_Job(f"scrape:{ref!r}:{limit}", run), channel)

    async def join(self, channel: str) -> Answer:
        """Join a channel so its new posts arrive as they are posted."""
        ref = _parse(channel)

        async def run() -> Answer:
            entity = await self._resolve(ref)
            if marked_channel_id(entity.id) not in self._watched and len(self._watched) >= self._max_channels:
                raise TooManyChannels(
                    f"the scraper already watches {len(self._watched)} channels, its limit "
                    "(PPB_SCRAPER_MAX_CHANNELS); channels already stored still work"
                )
            status = "joined"
            try:
                await self._connected()(JoinChannelRequest(entity))
            except errors.UserAlreadyParticipantError:
                status = "already_joined"
            except errors.InviteRequestSentError:
                status = "requested"
            except errors.ChannelsTooMuchError:
                raise ChannelUnreadable("this session is in too many channels; leave some first") from None
            row = await save_channel(self._store, marked_channel_id(entity.id), entity.username, entity.title)
            if status != "requested":
                self._watched[row["telegram_id"]] = entity
            return {"status": status, "channel": channel_out(row)}

        return await self._submit(_Job(f"join:{ref!r}", run), channel)

    def refresh_all(self) -> None:
        """Queue a refresh of every watched channel (one per channel, however often asked)."""
        for telegram_id, entity in list(self._watched.items()):
            self._queue_refresh(telegram_id, entity)

    def status(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "started": self._client is not None,
            "watched": len(self._watched),
            "queued": len(self._jobs),
            "flood_wait": self._flood_left(),
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

    # refreshing ------------------------------------------------------------------------

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(self._refresh_interval)
            self.refresh_all()

    def _queue_refresh(self, telegram_id: int, entity: Any) -> None:
        async def run() -> Answer:
            return await self._scrape_entity(entity, self._refresh_limit)

        self._enqueue(_Job(f"refresh:{telegram_id}", run))

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

    async def _on_new_message(self, event: Any) -> None:
        """A post in a watched channel: stored at once, or (an album's part) by a refresh."""
        entity = self._watched.get(event.chat_id)
        if entity is None:
            return
        message = event.message
        if getattr(message, "grouped_id", None):
            self._queue_refresh(event.chat_id, entity)  # the album's other parts follow
            return
        post = to_post([message])
        if post is None:
            return
        try:
            row = await save_channel(self._store, event.chat_id, entity.username, entity.title)
            await self._store.add_posts(row["id"], [post])
        except Exception as error:  # the periodic refresh picks the post up later
            log.warning("scraper %s: could not store a new post (%s)", self.name, type(error).__name__)

    # Telegram --------------------------------------------------------------------------

    def _connected(self) -> TelegramClient:
        if self._client is None:
            raise ScraperUnavailable("the scraper is not connected to Telegram")
        return self._client

    def _remember(self, entity: Any) -> None:
        self._entities[marked_channel_id(entity.id)] = entity
        if getattr(entity, "username", None):
            self._entities[entity.username.lower()] = entity

    async def _resolve(self, ref: ChannelRef) -> Any:
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
        if not _is_broadcast(entity):
            kind = "a group" if getattr(entity, "megagroup", False) else "a user or a group chat"
            raise ChannelUnreadable(f"{ref!r} is {kind}, not a channel")
        self._remember(entity)
        return entity

    async def _scrape_entity(self, entity: Any, limit: int) -> Answer:
        row = await save_channel(self._store, marked_channel_id(entity.id), entity.username, entity.title)
        cursor = await channel_cursor(self._store, row["id"])
        if cursor.newest is None:
            read = await self._read(entity, limit)
        else:
            newer = await self._read(entity, self._catch_up_limit, min_id=cursor.newest - 1, reverse=True)
            read = [post for post in newer if post.telegram_message_id != cursor.newest]
            missing = limit - cursor.count - len(read)
            if missing > 0 and cursor.oldest is not None and cursor.oldest > 1:
                read += await self._read(entity, missing, max_id=cursor.oldest)
        created = await save_posts(self._store, row["id"], read)
        stored = (await channel_cursor(self._store, row["id"])).count
        return {
            "status": "ok",
            "channel": channel_out(row),
            "posts_count": len(read),
            "created_count": created,
            "stored_count": stored,
        }

    async def _read(
        self, entity: Any, limit: int, *, min_id: int = 0, max_id: int = 0, reverse: bool = False
    ) -> list[NewPost]:
        """Up to `limit` whole posts (albums never cut in two), newest first unless `reverse`."""
        assembler = PostAssembler()
        messages = self._connected().iter_messages(entity, None, min_id=min_id, max_id=max_id, reverse=reverse)
        async for message in messages:
            assembler.add(message)
            if assembler.started > limit:
                return assembler.posts(complete_only=True, limit=limit)
        return assembler.posts(limit=limit)


def _parse(channel: str) -> ChannelRef:
    try:
        return parse_channel(channel)
    except DomainError as error:
        raise ChannelUnreadable(f"channel_username: {error.detail}") from None


def _is_broadcast(entity: Any) -> bool:
    return type(entity).__name__ == "Channel" and not getattr(entity, "megagroup", False)


def _translate(error: Exception, what: str) -> DomainError:
    """Any failure of a job as an error a person can read (never a traceback, never a secret)."""
    if isinstance(error, DomainError):
        return error
    if isinstance(error, (errors.ChannelPrivateError, errors.ChannelInvalidError, errors.ChannelBannedError)):
        return ChannelUnreadable("the channel is private or banned for this session; it cannot be read")
    if isinstance(error, errors.AuthKeyError) or isinstance(error, errors.UnauthorizedError):
        return ScraperUnavailable("TELETHON_SESSION is no longer logged in: create a new session string")
    if isinstance(error, errors.RPCError):
        return ScraperUnavailable(f"Telegram refused the request ({error.message})")
    if isinstance(error, (OSError, ConnectionError)):
        return ScraperUnavailable(f"cannot reach Telegram ({type(error).__name__}); try again shortly")
    log.exception("scraper job %s failed", what)
    return ScraperUnavailable("the scraper failed unexpectedly; it has been logged")
