"""The core of one process and what it is built of: the user state machine (store
compare-and-set, or the shards), the scraper, the ranker, the product's numbers; the HTTP
app's services; the embedding stage."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ppb.compose.ranking import ranker
from ppb.compose.scraper import scraper_client
from ppb.compose.store import connected_store, open_store
from ppb.config import Settings
from ppb.core.app import Core
from ppb.core.policy import Policy, parse_defaults
from ppb.core.ports import StoreUserMachine, UserMachine
from ppb.store.queries import Store

if TYPE_CHECKING:
    from ppb.http.services import Services


def policy(settings: Settings) -> Policy:
    return Policy(
        max_bonus_channels=settings.max_bonus_channels,
        posts_per_channel=settings.posts_per_channel,
        default_channels=parse_defaults(list(settings.effective_default_channels)),
        vector_model=vector_model(settings),
    )


def vector_model(settings: Settings) -> str | None:
    """The model name of the sentence vectors the embedding stage stores (None: no encoder)."""
    from ppb.ranking import load_encoder

    encoder = load_encoder(settings.embeddings)
    return None if encoder is None else encoder.name


def user_machine(settings: Settings, store: Store, *, actors: bool) -> UserMachine:
    if actors:
        from ppb.actors.remote import UserShards

        return UserShards(settings, open_store)
    return StoreUserMachine(store)


def build_core(settings: Settings, store: Store | None = None, *, actors: bool = False, scorer: Any = None,
               with_scraper: bool = True) -> Core:
    """The core for one process; with `actors`, transitions go through the user shards and
    the scraper is the named actor; with `scorer`, ranking is the Scorer deployment's."""
    store = open_store(settings) if store is None else store
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


async def connected_embedder(settings: Settings, part: int, parts: int) -> Any:
    """An embedder actor's stage: its own store connection, its share of the posts."""
    return embedder(settings, await connected_store(settings), part, parts)
