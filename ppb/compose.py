"""The composition root: what runs where. Everything that chooses between a part in this
process and the same part in Ray actors (the user state machine, the chat registries, the
scraper, the ranker) is decided here, and nowhere else; the rest of PPB is handed the
parts it works with."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ppb.config import Settings
from ppb.core.app import Core
from ppb.core.policy import Policy, parse_defaults
from ppb.core.ports import Ranker, StoreUserMachine, UserMachine
from ppb.store.queries import Store

if TYPE_CHECKING:
    from ppb.bot.messages import Registry
    from ppb.http.services import Services
    from ppb.scraper.client import ScraperClient

SCORER = "Scorer"


def policy(settings: Settings) -> Policy:
    return Policy(
        max_bonus_channels=settings.max_bonus_channels,
        posts_per_channel=settings.posts_per_channel,
        default_channels=parse_defaults(list(settings.effective_default_channels)),
    )


def ranker(settings: Settings, store: Store, *, scorer: Any = None) -> Ranker:
    """The Scorer deployment's client when given its handle, else ranking in this process."""
    if scorer is not None:
        from ppb.actors.scorer_client import ScorerClient

        return ScorerClient(scorer)
    from ppb.core.scoring import Scoring

    return Scoring.from_settings(store, settings)


def scorer_handle() -> Any:
    """The running Scorer deployment's handle (processes outside Serve: the bot, the nudger)."""
    from ray import serve

    from ppb.http.serve import APP_NAME

    return serve.get_deployment_handle(SCORER, app_name=APP_NAME)


def user_machine(settings: Settings, store: Store, *, actors: bool) -> UserMachine:
    if actors:
        from ppb.actors.remote import UserShards

        return UserShards(settings)
    return StoreUserMachine(store)


def scraper_client(settings: Settings, store: Store, *, actors: bool = False) -> ScraperClient | None:
    """None without a Telethon session; the named actor under Ray; else one in this process."""
    from ppb.scraper.telethon_session import missing_settings

    if missing_settings(settings):
        return None
    if actors:
        from ppb.actors.scraper import RayScraperClient

        return RayScraperClient(settings)
    from ppb.scraper.client import LocalScraperClient
    from ppb.scraper.session import Scraper
    from ppb.scraper.telethon_session import TelethonSession

    factory = TelethonSession(settings)
    scraper = Scraper(
        store,
        factory,
        name=factory.name,
        refresh_interval=settings.scrape_interval,
        refresh_limit=settings.posts_per_channel,
        max_channels=settings.scraper_max_channels,
    )
    return LocalScraperClient(scraper)


def build_core(settings: Settings, store: Store | None = None, *, actors: bool = False, scorer: Any = None,
               with_scraper: bool = True) -> Core:
    """The core for one process; with `actors`, transitions go through the user shards and
    the scraper is the named actor; with `scorer`, ranking is the Scorer deployment's."""
    store = Store(settings.async_database_url) if store is None else store
    scraper = scraper_client(settings, store, actors=actors) if with_scraper else None
    from ppb import metrics

    return Core(store, user_machine(settings, store, actors=actors), ranker(settings, store, scorer=scorer),
                policy(settings), scraper, record=metrics.record)


def build_services(settings: Settings, *, actors: bool = False, scorer: Any = None) -> Services:
    """What an HTTP app (an Api replica, `ppb api --bare`, a test) works with."""
    from ppb.http.services import Services

    core = build_core(settings, actors=actors, scorer=scorer)
    return Services(settings, core, None if scorer is not None or actors else embedder(settings, core.store))


def embedder(settings: Settings, store: Store, part: int = 0, parts: int = 1) -> Any:
    """The embedding stage over `store` (its share `part` of `parts`), or None with no
    sentence encoder (`PPB_EMBEDDINGS=off`)."""
    from ppb.core.embedding import Embedder
    from ppb.ranking import load_encoder

    encoder = load_encoder(settings.embeddings)
    return None if encoder is None else Embedder(store, encoder, part=part, parts=parts)


def build_registry(settings: Settings, *, actors: bool = False) -> Registry:
    """The chat registries: the `chats-<k>` actors under Ray, else a shard in this process."""
    if actors:
        from ppb.actors.remote import ChatShards

        return ChatShards(settings)
    from ppb.actors.chat_shard import ChatShard
    from ppb.actors.chat_state import MemoryChatState, RedisChatState

    state = RedisChatState(settings.redis_url_value) if settings.redis_url_value else MemoryChatState()
    return ChatShard(state, settings.chat_registry_limit, settings.shard_idle_after)


def build_bot_app(settings: Settings, *, core: Core | None = None, actors: bool = False,
                  public_base: str | None = None, **options: Any) -> Any:
    """The bot calling `core` in this process (`LocalPpb`); without a core, calling the REST
    API over HTTP with the API key (`HttpPpb`, for a bot running away from PPB's processes)."""
    from ppb.bot.api import HttpPpb
    from ppb.bot.app import build_bot_app as build
    from ppb.core.ppb import LocalPpb, Ppb
    from ppb.http.person import StorePersonData

    api: Ppb | None = options.pop("api", None)  # a given one (tests: an API that answers nothing)
    if api is None:
        if core is None:
            api = HttpPpb.from_settings(settings, public_base)
        else:
            api = LocalPpb(core, StorePersonData(settings, core.store))
    registry = options.pop("registry", None) or build_registry(settings, actors=actors)
    return build(settings, api=api, registry=registry, public_base=public_base, **options)


def wants_webhook(settings: Settings) -> bool:
    return settings.bot_mode == "webhook" and (settings.use_sandbox or settings.bot_token is not None)


def http_app(settings: Settings, services: Services | None = None, *, actors: bool = False) -> Any:
    """The Starlette app for one process over `services` (built here when not given); in
    webhook mode, the webhook route's bot calls this process's core directly."""
    from ppb.http.app import build_app

    services = build_services(settings, actors=actors) if services is None else services
    built = services

    def webhook_bot() -> Any:
        return build_bot_app(settings, core=built.core, actors=actors)

    return build_app(settings, services, webhook_bot=webhook_bot if wants_webhook(settings) else None)


async def connected_embedder(settings: Settings, part: int, parts: int) -> Any:
    """An embedder actor's stage: its own store connection, its share of the posts."""
    store = Store(settings.async_database_url)
    await store.connect()
    return embedder(settings, store, part, parts)
