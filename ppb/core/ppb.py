"""`Ppb`: what a client of PPB (the bot, wherever it runs) can ask, with two implementations:
`LocalPpb` calls the core in this process (the Api replicas, the webhook bot inside them,
the polling bot actor); `HttpPpb` (ppb/bot/api.py) calls the REST API with the API key, for
a bot running elsewhere. Both answer the REST replies' JSON-shaped dicts and raise domain
errors (`NotFound`, `Conflict`, `Invalid`, `Unavailable`, ...), never transport errors."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from ppb.core import replies
from ppb.core.app import SCRAPE_TIMEOUT_S, Core
from ppb.core.ports import PersonData
from ppb.domain.channels import ChannelName
from ppb.domain.errors import Invalid, Unavailable
from ppb.domain.explanations import Surface
from ppb.domain.interactions import InteractionType
from ppb.domain.status import UserEvent

Reply = dict[str, Any]


class Ppb(Protocol):
    async def register_user(self, telegram_id: int, username: str | None, first_name: str | None,
                            last_name: str | None, language: str | None = None) -> Reply: ...
    async def get_user(self, telegram_id: int) -> Reply: ...
    async def event(self, telegram_id: int, event: str, details: dict[str, Any] | None = None) -> Reply: ...
    async def set_language(self, telegram_id: int, language: str) -> Reply: ...
    async def channels(self, telegram_id: int) -> list[Reply]: ...
    async def add_channel(self, telegram_id: int, channel: str, *, bonus: bool) -> Reply: ...
    async def remove_channel(self, telegram_id: int, channel: str) -> None: ...
    async def interactions(self, telegram_id: int) -> list[Reply]: ...
    async def training_posts(self, telegram_id: int, channels: list[str], per_channel: int) -> list[Reply]: ...
    async def rate(self, telegram_id: int, post_id: int, kind: str, *, if_rated: str | None = None) -> Reply: ...
    """During a training, `LocalPpb` adds `training`: where it stands after the rating, as
    `training_state` answers (the REST reply has none: a client over HTTP reads it)."""
    async def train(self, telegram_id: int) -> Reply: ...
    async def best(self, telegram_id: int, limit: int) -> list[Reply]: ...
    async def explain(self, telegram_id: int, post_id: int) -> Reply: ...
    async def training_state(self, telegram_id: int, limit: int = 1) -> Reply: ...
    async def start_training(self, telegram_id: int, channels: list[str] | None = None, *,
                             append: bool = False, refresh: bool = False) -> Reply: ...
    async def finish_training(self, telegram_id: int) -> Reply: ...
    async def feed_page(self, telegram_id: int, limit: int) -> Reply: ...
    async def join(self, channel: str) -> Reply: ...
    async def rules(self, telegram_id: int) -> Reply: ...
    async def change_rules(self, telegram_id: int, **changes: Any) -> Reply: ...
    async def export(self, telegram_id: int) -> Reply: ...
    async def erase(self, telegram_id: int) -> None: ...
    async def close(self) -> None: ...


T = TypeVar("T")


def _held(method: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
    """One database connection for the whole call, as the REST API holds one per request,
    released before the bot goes back to Telegram (never held across a Bot API call)."""

    @functools.wraps(method)
    async def wrapper(self: LocalPpb, *args: Any, **kwargs: Any) -> T:
        async with self.core.store.session():
            return await method(self, *args, **kwargs)

    return wrapper


def _enum(kind: type[Any], value: str, field: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(member.value for member in kind)
        raise Invalid(f"{field}: {value!r} is not one of {choices}") from None


class LocalPpb:
    """`Ppb` over the core in this process: no HTTP, no serialization."""

    def __init__(self, core: Core, person: PersonData | None = None) -> None:
        self.core = core
        self.person = person

    def _person(self) -> PersonData:
        if self.person is None:
            raise Unavailable("settings and data rights: not available in this process")
        return self.person

    async def close(self) -> None:
        """The core's parts belong to whoever built them."""

    @_held
    async def register_user(self, telegram_id: int, username: str | None, first_name: str | None,
                            last_name: str | None, language: str | None = None) -> Reply:
        user, _ = await self.core.register(telegram_id, username, first_name, last_name, language)
        return user

    @_held
    async def get_user(self, telegram_id: int) -> Reply:
        return await self.core.get_user(telegram_id)

    @_held
    async def event(self, telegram_id: int, event: str, details: dict[str, Any] | None = None) -> Reply:
        return await self.core.event(telegram_id, _enum(UserEvent, event, "event"), details)

    @_held
    async def set_language(self, telegram_id: int, language: str) -> Reply:
        user, _ = await self.core.register(telegram_id, language=language)
        return user

    @_held
    async def channels(self, telegram_id: int) -> list[Reply]:
        return await self.core.channels(telegram_id)

    @_held
    async def add_channel(self, telegram_id: int, channel: str, *, bonus: bool) -> Reply:
        link, _ = await self.core.add_channel(telegram_id, ChannelName.parse(channel, "channel"),
                                              for_training=True, bonus=bonus)
        return link

    @_held
    async def remove_channel(self, telegram_id: int, channel: str) -> None:
        await self.core.remove_channel(telegram_id, ChannelName.parse(channel, "channel"))

    @_held
    async def interactions(self, telegram_id: int) -> list[Reply]:
        return await self.core.interactions(telegram_id)

    @_held
    async def training_posts(self, telegram_id: int, channels: list[str], per_channel: int) -> list[Reply]:
        found = await self.core.training_posts(
            telegram_id, ChannelName.parse_many(channels, "channel_usernames"), per_channel)
        return found.posts

    @_held
    async def rate(self, telegram_id: int, post_id: int, kind: str, *, if_rated: str | None = None) -> Reply:
        row = await self.core.rate(telegram_id, post_id, _enum(InteractionType, kind, "interaction_type"),
                                   if_rated=if_rated)
        rated = {key: value for key, value in row.items() if key != "training"}  # as POST /posts/interactions
        if row.get("training") is not None:  # read after the rating anyway: the bot needs no second read
            rated["training"] = replies.training_state(row["training"], 1)
        return rated

    @_held
    async def train(self, telegram_id: int) -> Reply:
        count, seconds = await self.core.train(telegram_id)
        return {"success": bool(count), "training_time": round(seconds, 6), "ratings_count": count}

    @_held
    async def best(self, telegram_id: int, limit: int) -> list[Reply]:
        return replies.ranked(await self.core.best(telegram_id, limit))

    @_held
    async def explain(self, telegram_id: int, post_id: int) -> Reply:
        return replies.explanation(await self.core.explain(telegram_id, post_id, Surface.CHAT))

    @_held
    async def training_state(self, telegram_id: int, limit: int = 1) -> Reply:
        return replies.training_state(await self.core.training_state(telegram_id), limit)

    @_held
    async def start_training(self, telegram_id: int, channels: list[str] | None = None, *,
                             append: bool = False, refresh: bool = False) -> Reply:
        names = None if channels is None else ChannelName.parse_many(channels, "channels")
        state = await self.core.start_training(telegram_id, names, append=append, refresh=refresh)
        return replies.training_state(state, 5)

    @_held
    async def finish_training(self, telegram_id: int) -> Reply:
        return replies.finished(await self.core.finish_training(telegram_id), 5)

    @_held
    async def feed_page(self, telegram_id: int, limit: int) -> Reply:
        return replies.feed_page(await self.core.feed_page(telegram_id, limit))

    async def join(self, channel: str) -> Reply:
        try:
            return await asyncio.wait_for(self.core.join(channel), SCRAPE_TIMEOUT_S)
        except TimeoutError:
            raise Unavailable(f"the scraper did not answer within {SCRAPE_TIMEOUT_S:g} s") from None

    @_held
    async def rules(self, telegram_id: int) -> Reply:
        return await self._person().rules(telegram_id)

    @_held
    async def change_rules(self, telegram_id: int, **changes: Any) -> Reply:
        return await self._person().change_rules(telegram_id, changes)

    @_held
    async def export(self, telegram_id: int) -> Reply:
        return await self._person().export(telegram_id)

    @_held
    async def erase(self, telegram_id: int) -> None:
        await self._person().erase(telegram_id)
