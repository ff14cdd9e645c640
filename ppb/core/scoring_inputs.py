"""Where `Scoring` reads a user's inputs: the store, one user at a time (a feed request), or
what was read for many users at once (`Scoring.best_many`: a nudger pass, a Scorer batch)."""

from __future__ import annotations

from collections.abc import Sequence

from ppb.store.queries import Row, Store

PEER_RATINGS = 5000
"""Peers' ratings a model is seeded from at most (as `Store.ratings_by`)."""


class StoreInputs:
    """Each input asked of the store when it is needed."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def rating_keys(self, user_id: int) -> list[Row]:
        return await self._store.rating_keys(user_id)

    async def channel_ids(self, user_id: int) -> list[int]:
        return await self._store.user_channel_ids(user_id)

    async def like_rates(self, channel_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
        return await self._store.channel_like_rates(channel_ids)

    async def co_ratings(self, user_id: int) -> list[Row]:
        return await self._store.co_ratings(user_id)

    async def ratings_by(self, user_ids: Sequence[int]) -> list[Row]:
        return await self._store.ratings_by(user_ids, PEER_RATINGS)


class BatchInputs(StoreInputs):
    """Inputs read for many users in one statement each; what was not read ahead (a user
    outside the batch) falls back to the store."""

    def __init__(self, store: Store, ratings: dict[int, list[Row]], channels: dict[int, list[int]]) -> None:
        super().__init__(store)
        self._ratings = ratings
        self._channels = channels
        self._like_rates: dict[int, tuple[int, int]] | None = None
        self._rated_channels: set[int] = set()
        self._co_ratings: dict[int, list[Row]] = {}
        self._peer_ratings: list[Row] | None = None

    async def read_priors(self, channel_ids: set[int]) -> None:
        """The like rates of these channels, for every model fitted in this batch."""
        self._like_rates = await self._store.channel_like_rates(sorted(channel_ids))
        self._rated_channels = set(channel_ids)

    async def read_peers(self, user_ids: Sequence[int]) -> None:
        """Co-ratings of these users, then every rating of the people who co-rated."""
        if not user_ids:
            return
        found = await self._store.co_ratings_many(user_ids)
        self._co_ratings = {user_id: found.get(user_id, []) for user_id in user_ids}
        peers = {int(row["user_id"]) for rows in self._co_ratings.values() for row in rows}
        self._peer_ratings = await self._store.ratings_of_many(sorted(peers)) if peers else []

    async def rating_keys(self, user_id: int) -> list[Row]:
        found = self._ratings.get(user_id)
        return found if found is not None else await super().rating_keys(user_id)

    async def channel_ids(self, user_id: int) -> list[int]:
        found = self._channels.get(user_id)
        return found if found is not None else await super().channel_ids(user_id)

    async def like_rates(self, channel_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
        if self._like_rates is None or not set(channel_ids) <= self._rated_channels:
            return await super().like_rates(channel_ids)
        return {key: value for key, value in self._like_rates.items() if key in set(channel_ids)}

    async def co_ratings(self, user_id: int) -> list[Row]:
        found = self._co_ratings.get(user_id)
        return found if found is not None else await super().co_ratings(user_id)

    async def ratings_by(self, user_ids: Sequence[int]) -> list[Row]:
        wanted = set(user_ids)
        if self._peer_ratings is None or not wanted:
            return await super().ratings_by(user_ids)
        theirs = [row for row in self._peer_ratings if row["user_id"] in wanted]
        return theirs[:PEER_RATINGS]
