"""What the long-lived actors run, built here and handed to them (as Serve's `.bind()` hands
deployments their handles), and which of them a deployment starts and stops (`PARTS`, the
`parts` keeper's). Each builder imports what its part needs where it builds it, so an
actor's process imports its own part and no other."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ppb.actors.named import kill_named
from ppb.actors.parts import NAME, Parts, stop_shards
from ppb.config import Settings

if TYPE_CHECKING:
    from ppb.actors.delivery import Deliverer
    from ppb.actors.nudger import Nudger, NudgerSettings
    from ppb.actors.outbox import Outbox
    from ppb.core.delivery import Caps


async def build_polling_bot(settings: Settings, use_scorer: bool = True) -> Callable[[], Any]:
    """What the `bot` actor runs: a core of its own (its own database pool, the user shards,
    the Scorer deployment, or ranking in its process without `use_scorer`), connected; a new
    bot app over it each time polling starts again."""
    import functools

    from ppb.compose.bot import build_bot_app
    from ppb.compose.core import build_core
    from ppb.compose.ranking import scorer_handle

    core = build_core(settings, actors=True, scorer=scorer_handle() if use_scorer else None)
    await core.store.connect()
    return functools.partial(build_bot_app, settings, core=core, actors=True)


def nudger_settings(settings: Settings) -> NudgerSettings:
    from ppb.actors.nudger import NudgerSettings

    return NudgerSettings(
        quiet_after=settings.nudge_after,
        churn_after=settings.churn_after,
        daily_cap=settings.nudge_daily_cap,
        batch=settings.nudge_batch,
    )


async def build_nudger(settings: Settings, use_scorer: bool = True) -> Nudger:
    """What the `nudger` actor runs: the store, the Scorer deployment (or ranking in its
    process), the user shards, and the outbox that sends its nudges."""
    from ppb.actors.nudger import Nudger
    from ppb.actors.outbox_nudges import OutboxNudgeSender
    from ppb.actors.remote import UserShards
    from ppb.compose.ranking import ranker, scorer_handle
    from ppb.compose.store import connected_store, open_store
    from ppb.core.variants import FeedRanker

    store = await connected_store(settings)
    sender = OutboxNudgeSender(store)  # sent by the `outbox` actor, at Telegram's pace with pushes and digests
    ranks = ranker(settings, store, scorer=scorer_handle() if use_scorer else None)
    feed = FeedRanker(ranks, store, quiet_when_blocked=True)  # the user's A/B variant; none for the blocked
    return Nudger(store, feed, UserShards(settings, open_store), sender, nudger_settings(settings))


def caps(settings: Settings) -> Caps:
    from ppb.core.delivery import Caps

    return Caps(hourly=settings.push_hourly_cap, daily=settings.push_daily_cap, digest_size=settings.digest_size)


async def build_outbox(settings: Settings, use_scorer: bool = True) -> tuple[Outbox, Deliverer]:
    """What the `outbox` actor runs: the outbox and the deliverer with their real parts (the
    store, the bot with 429s handed back, not waited out per request, the chat shards, the
    Scorer or ranking in its process)."""
    from ppb.actors.delivery import Deliverer
    from ppb.actors.outbox import Outbox, Pace
    from ppb.actors.remote import ChatShards
    from ppb.bot.app import build_bot
    from ppb.bot.i18n import build_i18n
    from ppb.bot.outbox_sender import BotOutboxSender
    from ppb.compose.ranking import ranker, scorer_handle
    from ppb.compose.store import connected_store
    from ppb.ranking import load_encoder

    store = await connected_store(settings)
    sender = BotOutboxSender(build_bot(settings, wait_out_floods=False), ChatShards(settings), build_i18n(), store)
    outbox = Outbox(store, sender, Pace(rate=settings.outbox_rate, per_chat_s=settings.outbox_per_chat_s))
    scorer = ranker(settings, store, scorer=scorer_handle() if use_scorer else None)
    encoder = load_encoder(settings.embeddings)
    return outbox, Deliverer(store, scorer, caps(settings), vector_model=None if encoder is None else encoder.name)


def start_parts(settings: Settings) -> dict[str, Any]:
    """Create whatever part is missing (each by name, idempotently); blocking Ray calls."""
    from ppb.actors.bot import start_bot, wants_bot
    from ppb.actors.embedder_actor import start_embedders
    from ppb.actors.nudger_actor import start_nudger
    from ppb.actors.outbox_actor import start_outbox
    from ppb.actors.remote import ChatShards, UserShards
    from ppb.compose.core import connected_embedder
    from ppb.compose.store import open_store

    UserShards(settings, open_store).shards.start_all()
    ChatShards(settings).shards.start_all()
    started: dict[str, Any] = {"users": settings.user_shards, "chats": settings.chat_shards}
    started["embedders"] = len(start_embedders(settings, connected_embedder))
    if settings.telethon_session is not None:
        from ppb.actors.scraper import RayScraperClient
        from ppb.compose.scraper import scraper_session

        RayScraperClient(settings, scraper_session).handle()
        started["scraper"] = True
    if wants_bot(settings):
        if settings.bot_mode == "polling":
            start_bot(settings, build_polling_bot)
        start_nudger(settings, build_nudger)  # retention: a pass every NUDGE_CHECK_INTERVAL seconds
        start_outbox(settings, build_outbox)  # live pushes, digests and nudges, sent at Telegram's pace
        started["bot"] = settings.bot_mode
    return started


def stop_parts(settings: Settings) -> None:
    """Stop every part for good: the bot ends its polling first, then the actors go."""
    from ppb.actors.bot import stop_bot
    from ppb.actors.embedder_actor import stop_embedders
    from ppb.actors.nudger_actor import stop_nudger
    from ppb.actors.outbox_actor import stop_outbox

    stop_bot(settings)
    stop_nudger(settings)
    stop_outbox(settings)
    stop_shards(settings)
    stop_embedders(settings)
    if settings.telethon_session is not None:
        from ppb.actors.scraper import RayScraperClient
        from ppb.compose.scraper import scraper_session

        RayScraperClient(settings, scraper_session).kill()


async def register_webhook(settings: Settings) -> None:
    """Webhook mode: point the Bot API at the Api."""
    from ppb.bot.webhook import register_webhook as register

    await register(settings)


PARTS = Parts(start=start_parts, stop=stop_parts, register_webhook=register_webhook)
"""What the `parts` keeper of a deployment runs."""


def stop_application_parts(settings: Settings) -> None:
    """Stop the keeper first (so it restarts nothing), then every part."""
    kill_named(NAME, settings)
    stop_parts(settings)
