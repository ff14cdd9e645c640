"""The feed ranks each person with their A/B variant, and not at all when they are blocked.

`FeedRanker` wraps whichever ranker the process uses (in process, or the Scorer's client):
each `best` call looks up the user's variant in the running experiment (assigning it on
first use, in the store) and hands its settings to the ranker as `variant`.
"""

from __future__ import annotations

from typing import Any

from ppb.core.ports import Ranker
from ppb.core.rules import post_filter
from ppb.domain.errors import Blocked
from ppb.store.admin import Admin
from ppb.store.experiments import Experiments
from ppb.store.queries import Row, Store


class FeedRanker:
    """`Ranker` for the feed paths (API, chat feed, Mini App feed, nudges)."""

    def __init__(self, inner: Ranker, store: Store, *, quiet_when_blocked: bool = False) -> None:
        self._inner = inner
        self._store = store
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
        hidden = await post_filter(self._store, user_id)  # the person's muted words and ads
        if not hidden.active:
            return await self._inner.best(user_id, limit, variant=variant)
        ranked = await self._inner.best(user_id, min(limit * 2 + 20, limit + 500), variant=variant)
        return hidden.keep(ranked, lambda pair: pair[0])[:limit]
