"""The bot's app: which `Ppb` it calls and which chat registry keeps its message ids."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ppb.config import Settings
from ppb.core.app import Core

if TYPE_CHECKING:
    from ppb.bot.messages import Registry


def build_registry(settings: Settings, *, actors: bool = False) -> Registry:
    """The chat registries: the `chats-<k>` actors under Ray (each chat's registry kept beside
    the bot once read, right as the shards tell), else a shard in this process."""
    if actors:
        from ppb.actors.chat_cache import CachedChatShards
        from ppb.actors.remote import ChatShards

        return CachedChatShards(ChatShards(settings).shards)
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
