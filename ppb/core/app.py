"""`Core`: the application's use cases over its parts (the store, the user state machine,
the ranker, the scraper), one method per thing a client can ask. The REST API, the bot
(in process), the Mini App and the nudger all call these; the rules live in the modules
beside this one, never in an adapter."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ppb.core import channels, explanations, feed, posts, ratings, training, users
from ppb.core.policy import Policy
from ppb.core.ports import Ranker, Row, Scraper, UserMachine
from ppb.core.variants import FeedRanker
from ppb.domain.channels import ChannelName
from ppb.domain.errors import DomainError, NotConfigured
from ppb.domain.explanations import Surface
from ppb.domain.interactions import InteractionType
from ppb.domain.status import UserEvent, UserStatus
from ppb.ranking.explain import Explanation
from ppb.store.queries import Store

NO_SCRAPER = ("scraper: not configured on this server (set TELEGRAM_API_ID, TELEGRAM_API_HASH and "
              "TELETHON_SESSION); posts already in the store still serve training and feeds")
SCRAPE_TIMEOUT_S = 15.0
"""How long a person waits for the scraper (to join a channel, or for fresh posts)."""


@dataclass(slots=True)
class Core:
    store: Store
    users: UserMachine
    ranker: Ranker  # Scoring in process, or ScorerClient under Serve
    policy: Policy
    scraper: Scraper | None = None  # None without a Telethon session
    record: Callable[..., None] = lambda name, value=1.0, **tags: None
    """Where the core counts what it does (`ppb.metrics.record` in a deployment)."""

    @property
    def feed_ranker(self) -> FeedRanker:
        """The ranker the feed paths use: the user's A/B variant, blocks respected."""
        return FeedRanker(self.ranker, self.store)

    # users ---------------------------------------------------------------------------

    async def register(self, telegram_id: int, username: str | None = None, first_name: str | None = None,
                       last_name: str | None = None, language: str | None = None) -> tuple[Row, bool]:
        return await users.register(self.store, telegram_id, username, first_name, last_name, language)

    async def get_user(self, telegram_id: int) -> Row:
        return await self.store.get_user(telegram_id)

    async def event(self, telegram_id: int, kind: UserEvent, details: dict[str, Any] | None = None) -> Row:
        return await users.event(self.users, telegram_id, kind, details)

    async def open_app(self, telegram_id: int, username: str | None, first_name: str | None,
                       last_name: str | None, language: str | None) -> Row:
        return await users.open_app(self.store, self.users, telegram_id, username, first_name, last_name, language)

    # channels ------------------------------------------------------------------------

    async def channels(self, telegram_id: int) -> list[Row]:
        return await channels.listed(self.store, telegram_id, self.policy.default_channels)

    async def add_channel(self, telegram_id: int, name: ChannelName, *, for_training: bool = True,
                          bonus: bool = False) -> tuple[Row, bool]:
        return await channels.add(self.store, telegram_id, name, for_training=for_training, bonus=bonus,
                                  limit=self.policy.max_bonus_channels, configured=self.policy.default_channels)

    async def remove_channel(self, telegram_id: int, name: ChannelName) -> None:
        await channels.remove(self.store, telegram_id, name)

    async def default_channels(self) -> list[ChannelName]:
        return await channels.defaults(self.store, self.policy.default_channels)

    def with_default_source(self, rows: Sequence[Row]) -> list[Row]:
        return channels.with_default_source(rows, self.policy.default_channels)

    async def mark_default(self, name: ChannelName, is_default: bool) -> Row:
        return await channels.mark_default(self.store, name, is_default, self.policy.default_channels)

    async def follows(self, telegram_id: int, name: ChannelName) -> bool:
        return await channels.follows(self.store, telegram_id, name, self.policy.default_channels)

    # posts, ratings, the model -------------------------------------------------------

    async def training_posts(self, telegram_id: int, names: Sequence[ChannelName],
                             per_channel: int | None = None) -> posts.TrainingPosts:
        return await posts.for_training(self.store, telegram_id, names, per_channel or self.policy.posts_per_channel,
                                       self.policy.vector_model)

    async def rate(self, telegram_id: int, post_id: int, kind: InteractionType, *,
                   if_rated: str | None = None, mark_chat: bool = False) -> Row:
        """Rate a post; with `if_rated` (what the client shows) a rating made elsewhere
        meanwhile is kept (`kept`); with `mark_chat` (the Mini App) the chat's copy of the post
        shows the rating too."""
        row = await ratings.rate(self.store, self.users, self.ranker, telegram_id, post_id, kind, if_rated=if_rated)
        if not row["kept"]:
            self.record("ppb_ratings_total", kind=kind.value)
        if mark_chat:
            await ratings.mark_in_chat(self.store, row, telegram_id)
        return row

    async def interactions(self, telegram_id: int) -> list[Row]:
        return await self.store.list_interactions(await self.store.user_id(telegram_id))

    async def train(self, telegram_id: int) -> tuple[int, float]:
        """Fit the person's model now; a training going on is completed. (ratings, seconds)"""
        done = await training.finish(self.store, self.users, self.ranker, telegram_id)
        return done.ratings_count, done.seconds

    async def best(self, telegram_id: int, limit: int) -> list[tuple[Row, float]]:
        return await posts.best(self.store, self.feed_ranker, telegram_id, limit)

    async def explain(self, telegram_id: int, post_id: int, surface: Surface = Surface.API) -> Explanation:
        """Why the post is where it is in the person's feed, from the scores that ranked it;
        kept with where the person asked (`surface`) for the console's statistics."""
        return await explanations.explain(self.store, self.feed_ranker, await self.store.user_id(telegram_id),
                                          post_id, surface)

    # training and the chat's feed ----------------------------------------------------

    async def training_state(self, telegram_id: int) -> training.TrainingState:
        return await training.read(self.store, telegram_id)

    async def start_training(self, telegram_id: int, names: Sequence[ChannelName] | None = None, *,
                             per_channel: int | None = None, append: bool = False,
                             refresh: bool = False) -> training.TrainingState:
        """Start (or restart) training; `names` default to the default channels plus the
        person's own; with `append`, a training going on gets these channels' posts too; with
        `refresh`, the scraper is asked for their newest posts first."""
        user = await self.store.get_user(telegram_id)
        if names is None:
            names = await training.default_refs(self.store, user["id"], self.policy.default_channels)
        per_channel = per_channel or self.policy.posts_per_channel
        if refresh:
            await self.refresh(names, per_channel)
        return await training.start(self.store, self.users, telegram_id, names, per_channel,
                                    append=append and user["status"] == UserStatus.TRAINING,
                                    vector_model=self.policy.vector_model)

    async def training_for_app(self, user: Row) -> training.TrainingState:
        """The one training set a client shows, started when none is (a new person)."""
        state = await training.read(self.store, user["telegram_id"])
        if user["status"] in {UserStatus.NEW, UserStatus.ONBOARDING} or (
            state.active and not await self.store.training_set(user["id"])
        ):
            state = await self.start_training(user["telegram_id"])
        return state

    async def finish_training(self, telegram_id: int) -> training.Finished:
        return await training.finish(self.store, self.users, self.ranker, telegram_id)

    async def feed_page(self, telegram_id: int, limit: int) -> feed.FeedPage:
        return await feed.next_page(self.store, self.feed_ranker, await self.store.user_id(telegram_id), limit)

    async def app_feed(self, user_id: int, limit: int) -> list[tuple[Row, float]]:
        """The Mini App's feed deck: the best posts the person has not seen (rated, or in the
        chat already), as the chat's feed chooses them; remembered as dealt."""
        return (await feed.deck(self.store, self.feed_ranker, user_id, limit)).posts

    # the scraper ---------------------------------------------------------------------

    def scraper_or_fail(self) -> Scraper:
        if self.scraper is None:
            raise NotConfigured(NO_SCRAPER)
        return self.scraper

    async def scrape(self, name: str, limit: int) -> dict[str, Any]:
        ChannelName.parse(name, "channel_username")
        return await self.scraper_or_fail().scrape(name, limit)

    async def join(self, name: str) -> dict[str, Any]:
        ChannelName.parse(name, "channel_username")
        return await self.scraper_or_fail().join(name)

    async def refresh(self, names: Sequence[ChannelName], limit: int) -> None:
        """Ask the scraper for these channels' newest posts, each within `SCRAPE_TIMEOUT_S`;
        when it is down, absent or slow, the posts already stored serve."""
        if self.scraper is None:
            return
        scraper = self.scraper

        async def one(name: ChannelName) -> None:
            try:
                await asyncio.wait_for(scraper.scrape(repr(name), limit), SCRAPE_TIMEOUT_S)
            except (DomainError, TimeoutError):
                return

        await asyncio.gather(*(one(name) for name in names))
