"""The feed ranks each person with their A/B variant, and not at all when they are blocked.

`FeedRanker` wraps whichever ranker the process uses (in process, or the Scorer's client):
each `best` call looks up the user's variant in the running experiment (assigning it on
first use, in the store) and hands its settings to the ranker as `variant`, with the
person's channel dials beside them (read with the rest of their rules, so a dial turned
changes the next page).
"""

from __future__ import annotations

from typing import Any

from ppb.core.ports import Ranker
from ppb.core.rules import PostFilter, ranking_dials, read, read_many
from ppb.domain.errors import Blocked, NotFound
from ppb.domain.rules import normalize
from ppb.ranking.dials import with_dials
from ppb.ranking.explain import CHANNEL, DIAL, MUST, Explanation, Reason
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
        rules = await read(self._store, user_id)  # muted and must-see words, ads, channel dials
        hidden = PostFilter.of(rules)
        variant = with_dials(variant, ranking_dials(rules))
        if not hidden.active and hidden.must is None:
            return await self._inner.best(user_id, limit, variant=variant)
        ranked = await self._inner.best(user_id, _widened(limit, hidden), variant=variant)
        return hidden.keep(ranked, lambda pair: pair[0])[:limit]

    async def explain(self, user_id: int, post_id: int) -> Explanation:
        """Why the post is where it is in the user's feed: the ranker's reasons with the same
        variant and dials as `best`, a must-see word first when the post holds one."""
        if await self._admin.blocked(user_id) is not None:
            raise Blocked("user: this user is blocked by an operator")
        found = await self._store.feed_posts([post_id])
        if not found:
            raise NotFound(f"post_id: post {post_id} not found")
        post = found[0]
        experiment = await self._experiments.variant_for(user_id)
        rules = await read(self._store, user_id)
        variant = with_dials(dict(experiment[1].settings) if experiment else None, ranking_dials(rules))
        explanation = await self._inner.explain(user_id, post_id, variant)
        channel = f"@{post['channel_username']}" if post.get("channel_username") else str(post["channel_title"])
        explanation = explanation.naming((CHANNEL, DIAL), channel)
        hidden = PostFilter.of(rules)
        if hidden.must_see(post) and hidden.must is not None:
            word = hidden.must.search(normalize(post.get("text") or ""))
            explanation = explanation.with_reason(Reason(MUST, 0.0, detail=word.group(0) if word else ""))
        return explanation

    async def best_many(self, requests: list[tuple[int, int]]) -> list[list[tuple[Row, float]] | BaseException]:
        """`best` for many users (a nudger pass): blocks and rules read in one statement each,
        variants only looked up while an experiment runs, ranking in the inner ranker's batch
        path when it has one. A request that fails gets its exception as its result."""
        user_ids = [user_id for user_id, _ in requests]
        blocked = await self._admin.blocked_among(user_ids)
        rules = await read_many(self._store, user_ids)
        filters = {user_id: PostFilter.of(found) for user_id, found in rules.items()}
        running = await self._experiments.running() is not None
        wanted: list[tuple[int, int, dict[str, Any] | None]] = []
        results: list[list[tuple[Row, float]] | BaseException | None] = []
        for user_id, limit in requests:
            if user_id in blocked:
                results.append([] if self._quiet else Blocked("user: this user is blocked by an operator"))
                continue
            found = await self._experiments.variant_for(user_id) if running else None
            shaped = filters[user_id].active or filters[user_id].must is not None
            asked = _widened(limit, filters[user_id]) if shaped else limit
            settings = dict(found[1].settings) if found else None
            wanted.append((user_id, asked, with_dials(settings, ranking_dials(rules[user_id]))))
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
        kept = iter(
            answer if isinstance(answer, BaseException) else filters[user_id].keep(answer, lambda pair: pair[0])
            for (user_id, _, _), answer in zip(wanted, ranked, strict=True)
        )
        limits = iter(limit for user_id, limit in requests if user_id not in blocked)
        out: list[list[tuple[Row, float]] | BaseException] = []
        for result in results:
            if result is None:
                answer, limit = next(kept), next(limits)
                out.append(answer if isinstance(answer, BaseException) else answer[:limit])
            else:
                out.append(result)
        return out


MUST_SEE_REACH = 300
"""Ranked posts looked through for must-see words (they come first among these): a must-see
post the model ranks below this is left where it is."""


def _widened(limit: int, hidden: PostFilter) -> int:
    """How many to rank so that `limit` are left once a person's filter drops some (and
    must-see posts are looked for further down)."""
    widened = min(limit * 2 + 20, limit + 500)
    return max(widened, MUST_SEE_REACH) if hidden.must is not None else widened
