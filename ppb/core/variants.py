"""The feed ranks each person with their A/B variant, and not at all when they are blocked.

`FeedRanker` wraps whichever ranker the process uses (in process, or the Scorer's client):
each `best` call looks up the user's variant in the running experiment (assigning it on
first use, in the store) and hands its settings to the ranker as `variant`.
"""

from __future__ import annotations

from typing import Any, Protocol

from ppb.domain.errors import Blocked
from ppb.store.admin import Admin
from ppb.store.experiments import Experiments
from ppb.store.queries import Row, Store


class Ranker(Protocol):
    async def train(self, user_id: int) -> tuple[int, float]: ...

    async def best(
        self, user_id: int, limit: int, *, variant: dict[str, Any] | None = None
    ) -> list[tuple[Row, float]]: ...


class FeedRanker:
    """`Ranker` for the feed paths (API, chat feed, Mini App feed, nudges)."""

    def __init__(self, inner: Ranker, store: Store, *, quiet_when_blocked: bool = False) -> None:
        self._inner = inner
        self._experiments = Experiments(store)
        self._admin = Admin(store)
        self._quiet = quiet_when_blocked

    async def train(self, user_id: int) -> tuple[int, float]:
        return await self._inner.train(user_id)

    async def best(
        self, user_id: int, limit: int, *, variant: dict[str, Any] | None = None
    ) -> list[tuple[Row, float]]:
        """The user's best posts, ranked with their variant; a blocked user gets a 403
        (or, with `quiet_when_blocked`, nothing)."""
        if await self._admin.blocked(user_id) is not None:
            if self._quiet:
                return []
            raise Blocked("user: this user is blocked by an operator")
        if variant is None:
            found = await self._experiments.variant_for(user_id)
            variant = dict(found[1].settings) if found else None
        return await self._inner.best(user_id, limit, variant=variant)

    async def best_many(self, requests: list[tuple[int, int]]) -> list[list[tuple[Row, float]] | BaseException]:
        """`best` for many users (a nudger pass): blocks read in one statement, variants
        only looked up while an experiment runs, ranking in the inner ranker's batch path
        when it has one. A request that fails gets its exception as its result."""
        blocked = await self._admin.blocked_among([user_id for user_id, _ in requests])
        running = await self._experiments.running() is not None
        wanted: list[tuple[int, int, dict[str, Any] | None]] = []
        results: list[list[tuple[Row, float]] | BaseException | None] = []
        for user_id, limit in requests:
            if user_id in blocked:
                results.append([] if self._quiet else Blocked("user: this user is blocked by an operator"))
                continue
            found = await self._experiments.variant_for(user_id) if running else None
            wanted.append((user_id, limit, dict(found[1].settings) if found else None))
            results.append(None)
        batch = getattr(self._inner, "best_many", None)
        if batch is not None:
            ranked = list(await batch(wanted))
        else:
            ranked = []
            for user_id, limit, variant in wanted:
                try:
                    ranked.append(await self._inner.best(user_id, limit, variant=variant))
                except Exception as error:  # this user's failure only
                    ranked.append(error)
        answers = iter(ranked)
        return [next(answers) if result is None else result for result in results]
