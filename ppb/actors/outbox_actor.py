"""`outbox`: the actor that owns outgoing messages (live pushes, digests) and finds what to
deliver. One per namespace, shared by every Api replica; Ray restarting it loses nothing
(see outbox.py: messages are claimed in the store before each send)."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Any

import ray

from ppb.actors.named import kill_named, named_actor
from ppb.config import Settings

log = logging.getLogger("ppb.outbox")
NAME = "outbox"
ARRIVAL_EVERY_S = 1.0


@ray.remote(num_cpus=0, max_restarts=-1)
class OutboxActor:
    def __init__(self, settings: Settings, use_scorer: bool = True) -> None:
        self._settings = settings
        self._use_scorer = use_scorer
        self._parts: Any = None
        self._tasks: list[asyncio.Task[None]] = []
        # Started here, not only by `start`: after Ray restarts the actor it sends again.
        self._starting = asyncio.get_event_loop().create_task(self._start())

    async def _start(self) -> None:
        while self._parts is None:
            try:
                self._parts = await build_parts(self._settings, self._use_scorer)
            except Exception:  # the database away: try again shortly
                log.exception("outbox could not start")
                await asyncio.sleep(2.0)
        outbox, deliverer = self._parts
        self._tasks = [asyncio.ensure_future(outbox.run()),
                       asyncio.ensure_future(deliverer.run(ARRIVAL_EVERY_S, self._settings.digest_check_interval))]

    async def start(self) -> bool:
        return True

    async def wake(self) -> None:
        """New posts or messages: look now rather than at the next tick."""
        if self._parts is not None:
            self._parts[0].wake()
            self._parts[1].wake()

    async def stats(self) -> dict[str, Any]:
        import os

        if self._parts is None:
            return {"ready": False, "pid": os.getpid()}
        outbox = self._parts[0]
        return {"ready": True, "pid": os.getpid(), "paused_for": outbox.paused_for, "in_flight": outbox.in_flight,
                **dataclasses.asdict(outbox.counters)}


async def build_parts(settings: Settings, use_scorer: bool) -> tuple[Any, Any]:
    """The outbox and the deliverer with their real parts: the store, the bot (429s handed
    back, not waited out per request), the chat shards, the Scorer (or ranking in process)."""
    from ppb.actors.delivery import Deliverer
    from ppb.actors.outbox import Outbox, Pace
    from ppb.actors.remote import ChatShards
    from ppb.bot.app import build_bot
    from ppb.bot.i18n import build_i18n
    from ppb.bot.outbox_sender import BotOutboxSender
    from ppb.compose import ranker, scorer_handle
    from ppb.store.queries import Store

    store = Store(settings.async_database_url)
    await store.connect()
    sender = BotOutboxSender(build_bot(settings, wait_out_floods=False), ChatShards(settings), build_i18n(), store)
    outbox = Outbox(store, sender, Pace(rate=settings.outbox_rate, per_chat_s=settings.outbox_per_chat_s))
    scorer = ranker(settings, store, scorer=scorer_handle() if use_scorer else None)
    from ppb.ranking import load_encoder

    encoder = load_encoder(settings.embeddings)
    return outbox, Deliverer(store, scorer, caps(settings), vector_model=None if encoder is None else encoder.name)


def caps(settings: Settings) -> Any:
    from ppb.core.delivery import Caps

    return Caps(hourly=settings.push_hourly_cap, daily=settings.push_daily_cap, digest_size=settings.digest_size)


def start_outbox(settings: Settings) -> Any:
    """Create (or find) the `outbox` actor; returns its handle."""
    handle = named_actor(OutboxActor, NAME, settings)
    ray.get(handle.start.remote(), timeout=60)
    return handle


def stop_outbox(settings: Settings) -> None:
    kill_named(NAME, settings)
