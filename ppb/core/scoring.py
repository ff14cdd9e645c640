"""Ranking on top of the store, the use case: a person's best unrated posts (alone or many
at once), why a post ranks where it does, training now, and arriving posts scored for live
pushes.

Everything it reads is a per-process cache rebuilt from the store on a miss, so any process
(an API process, or any Scorer replica) can serve any user: the corpus and post rows
(`ppb.core.corpus`), per-user models (`ppb.core.user_models`), and the page math over them
(`ppb.ranking.pages`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, Protocol

import numpy as np

from ppb.core.arrivals import Arrival, Arrivals
from ppb.core.batching import NaturalBatches
from ppb.core.corpus import COMPLETE_EVERY_S, Corpus
from ppb.core.ports import Ranker
from ppb.core.scoring_inputs import BatchInputs, StoreInputs
from ppb.core.user_models import UserModels
from ppb.domain.errors import NotFound
from ppb.ranking import DEFAULT_PARAMS, Params
from ppb.ranking.dials import split
from ppb.ranking.explain import Explanation
from ppb.ranking.pages import SPREAD_WIDTH, PageJob, PageRanker
from ppb.ranking.threads import limit_blas_threads
from ppb.store.queries import Row, Store

CANDIDATE_LIMIT = 10_000
RANK_ATTEMPTS = 3
"""Rankings tried again when the text model was re-estimated while the candidates' vectors
were being made (the vectors made then are discarded), before ranking what is left."""
EXPLAIN_PAGE = 10
"""The page an explanation ranks when the user's last one is gone (another replica ranked
it, or the model was refit since): the exploration slot is that of a page of 10."""
QUOTE_CHARS = 80
"""How much of a liked post an explanation quotes."""


__all__ = ["Arrival", "Ranker", "Scoring"]


class ScoringSettings(Protocol):
    """The settings ranking reads (`ppb.config.Settings` has them; the core imports no config)."""

    @property
    def scorer_vector_cache(self) -> int: ...
    @property
    def embeddings(self) -> str: ...
    @property
    def exploration(self) -> float: ...
    @property
    def collaborative(self) -> bool: ...
    @property
    def scorer_blas_threads(self) -> int: ...


class Scoring:
    """Per-user models over one store, cached by the user's rating history version."""

    def __init__(
        self,
        store: Store,
        *,
        cache_size: int = 10_000,
        vector_cache: int = 100_000,
        embeddings: str = "use",
        params: Params = DEFAULT_PARAMS,
        complete_every_s: float = COMPLETE_EVERY_S,
    ) -> None:
        self._store = store
        self._params = params
        self._corpus = Corpus(store, vector_cache=vector_cache, embeddings=embeddings,
                              complete_every_s=complete_every_s)
        self._models = UserModels(store, self._corpus, cache_size)
        self._arrivals = Arrivals(store, self._corpus, self._models, params)
        self._ranking = PageRanker(self._corpus.index)
        self._pages: NaturalBatches[tuple[int, int, dict[str, Any] | None], list[tuple[Row, float]]] = (
            NaturalBatches(self.best_many, SPREAD_WIDTH)
        )

    @classmethod
    def from_settings(cls, store: Store, settings: ScoringSettings) -> Scoring:
        limit_blas_threads(settings.scorer_blas_threads)
        return cls(
            store,
            vector_cache=settings.scorer_vector_cache,
            embeddings=settings.embeddings,
            params=DEFAULT_PARAMS.with_overrides(
                {"exploration": settings.exploration, "collaborative": float(settings.collaborative)}
            ),
        )

    async def train(self, user_id: int) -> tuple[int, float]:
        """Fit the user's model now; returns (ratings used, seconds spent)."""
        started = time.perf_counter()
        await self.sync()
        ratings = await self._store.rating_keys(user_id)
        await self._models.fit(user_id, ratings, await self._store.user_channel_ids(user_id), self._params)
        return len(ratings), time.perf_counter() - started

    async def best(
        self, user_id: int, limit: int, variant: dict[str, Any] | None = None
    ) -> list[tuple[Row, float]]:
        """The user's best unrated posts with their scores, best first.

        `variant` overrides model settings (an A/B test's arm, see `ppb.ranking.Params`).
        Concurrent calls are ranked together (`ppb.core.batching`): the same page each
        would get alone, at about half the cost per user under load.
        """
        return await self._pages.submit((user_id, limit, variant))

    async def _rank_many(
        self, requests: list[tuple[int, int, dict[str, Any] | None]], inputs: StoreInputs
    ) -> tuple[list[list[tuple[int, float]] | BaseException], list[Mapping[int, tuple[int, ...]]]]:
        """(post id, score) of each request's best unrated posts, best first, and the copies
        collapsed into each of them (by post id); the products for all of them in one
        worker-thread call.

        Re-estimating the text model (another request's catch-up, while this one reads or
        embeds texts) discards every vector: a ranking that finds its candidates' vectors
        gone, or its model made before, is prepared again, rather than ranking nothing.
        """
        results: list[list[tuple[int, float]] | BaseException | None] = [None] * len(requests)
        copies: list[Mapping[int, tuple[int, ...]]] = [{} for _ in requests]
        pending = list(range(len(requests)))
        for attempt in range(RANK_ATTEMPTS):
            jobs: list[tuple[int, PageJob]] = []
            for n in pending:
                user_id, limit, variant = requests[n]
                try:
                    job = await self._prepare(user_id, limit, variant, inputs)
                except Exception as error:  # this request's failure only
                    results[n] = error
                    continue
                if job is None:
                    results[n] = []
                else:
                    jobs.append((n, job))
            if not jobs:
                break
            await self._corpus.ensure_missing([j.slots for _, j in jobs] + [j.rated_slots for _, j in jobs])
            final = attempt == RANK_ATTEMPTS - 1
            chosen = await asyncio.to_thread(self._choose_many, [job for _, job in jobs], final)
            pending = []
            for (n, _), outcome in zip(jobs, chosen, strict=True):
                if outcome is None:
                    pending.append(n)
                else:
                    results[n], copies[n] = outcome
            if not pending:
                break
        return [[] if result is None else result for result in results], copies

    async def _prepare(
        self, user_id: int, limit: int, variant: dict[str, Any] | None, inputs: StoreInputs
    ) -> PageJob | None:
        """The user's fitted model (refit when stale) and candidates; None: no candidates."""
        settings, dials = split(variant)  # the person's channel dials ride with the settings
        params = self._params.with_overrides(settings)
        ratings = await inputs.rating_keys(user_id)
        channels = await inputs.channel_ids(user_id)
        fitted = self._models.get(user_id)
        if fitted is None or not self._models.fresh(fitted, ratings, params):
            fitted = await self._models.fit(user_id, ratings, channels, params, inputs)
        rated = [row["post_id"] for row in ratings]
        # no lock: posts are added and forgotten only on the loop, and a worker's ranking
        # holds the lock for its whole run (waiting for it would stall every request)
        ranked = channels if dials is None else dials.ranked_channels(channels)
        slots = self._corpus.index.candidates(ranked, rated, CANDIDATE_LIMIT)
        rated_slots = self._corpus.index.slots(rated)
        if not len(slots):
            return None
        return PageJob(user_id, fitted.model, fitted.version[0], slots, rated_slots, limit, dials)

    async def best_many(
        self, requests: list[tuple[int, int] | tuple[int, int, dict[str, Any] | None]]
    ) -> list[list[tuple[Row, float]] | BaseException]:
        """`best` for several users at once: the corpus caught up once, and each input
        (ratings, channels, priors, peers, candidates' texts, the chosen posts) read for all
        of them in one statement, so a batch costs the same few statements at any size.

        Each request is (user id, limit) or (user id, limit, variant). A request that
        fails gets its exception as its result; the others are unharmed.
        """
        await self.sync()
        user_ids = sorted({int(request[0]) for request in requests})
        inputs = BatchInputs(
            self._store,
            await self._store.rating_keys_many(user_ids),
            await self._store.channel_ids_many(user_ids),
        )
        await self._read_ahead(requests, inputs)
        ranked, copies = await self._rank_many(
            [(int(r[0]), int(r[1]), r[2] if len(r) > 2 else None) for r in requests],  # type: ignore[misc]
            inputs,
        )
        chosen_ids = {i for result in ranked if isinstance(result, list) for i, _ in result}
        copy_ids = {c for found, result in zip(copies, ranked) if isinstance(result, list)
                    for i, _ in result for c in found.get(i, ())}
        rows = await self._corpus.feed_rows([(i, 0.0) for i in sorted(chosen_ids | copy_ids)])  # one statement
        by_id = {row["id"]: row for row, _ in rows}
        return [
            result if isinstance(result, BaseException)
            else [({**by_id[i], "also_in": also_in(by_id[i], found.get(i, ()), by_id)}, score)
                  for i, score in result if i in by_id]
            for result, found in zip(ranked, copies, strict=True)
        ]

    async def explain(self, user_id: int, post_id: int, variant: dict[str, Any] | None = None) -> Explanation:
        """Why `post_id` ranks where it does for the user: its score taken apart
        (`ppb.ranking.explain`), from the values the user's last page was ranked with when
        the post was among its candidates (else from a page ranked now, with `variant` as for
        `best`: the dials), and the liked posts it names quoted briefly."""
        index = self._corpus.index
        if post_id not in index:  # else no catching up: the page it was on is over the same posts
            await self.sync([post_id])
        if post_id not in index:
            raise NotFound(f"post_id: post {post_id} not found")
        explanation: Explanation | None = None
        shown = self._ranking.last_job(user_id)  # the page the person is looking at, as it was ranked
        if shown is not None and np.isin(index.slots([post_id]), shown.slots).all():
            explanation = await asyncio.to_thread(self._explain_job, shown, post_id)
        for _ in range(0 if explanation is not None else RANK_ATTEMPTS):
            job = await self._prepare(user_id, EXPLAIN_PAGE, variant, StoreInputs(self._store))
            with self._corpus.lock:
                slot = index.slots([post_id])
            if job is None or not np.isin(slot, job.slots).all():  # rated, or not in the person's channels
                job = self._with_candidate(job, user_id, slot)
            await self._corpus.ensure_missing([job.slots, job.rated_slots])
            explanation = await asyncio.to_thread(self._explain_job, job, post_id)
            if explanation is not None:
                break
        if explanation is None:
            raise NotFound(f"post_id: post {post_id} cannot be ranked now; try again shortly")
        named = sorted({i for reason in explanation.reasons for i in reason.post_ids})
        texts = await self._store.post_texts(named) if named else {}
        quotes = {i: _quote(text) for i, text in texts.items()}
        return replace(explanation, quotes=quotes)

    def _with_candidate(self, job: PageJob | None, user_id: int, slot: np.ndarray) -> PageJob:
        """The job with the post among its candidates (a post the person rated, or of a
        channel they left, is explained as if it were one)."""
        fitted = self._models.get(user_id)
        assert fitted is not None, "prepared just before"
        if job is None:
            return PageJob(user_id, fitted.model, fitted.version[0], slot, np.zeros(0, np.int64), EXPLAIN_PAGE)
        return replace(
            job,
            slots=np.concatenate([job.slots, slot]),
            rated_slots=job.rated_slots[~np.isin(job.rated_slots, slot)],
        )

    def _explain_job(self, job: PageJob, post_id: int) -> Explanation | None:
        """`PageRanker.explain` in a worker thread, holding the index lock."""
        with self._corpus.lock:
            return self._ranking.explain(job, post_id, time.time())

    async def _read_ahead(
        self, requests: list[tuple[int, int] | tuple[int, int, dict[str, Any] | None]], inputs: BatchInputs
    ) -> None:
        """For the models to fit: the channels' priors and the peers, in one go; and the
        vectors of every candidate, so no user's ranking stops to read texts."""
        channels: set[int] = set()
        peer_users: list[int] = []
        all_slots = []
        for request in requests:
            user_id = int(request[0])
            variant = request[2] if len(request) > 2 else None  # type: ignore[misc]
            params = self._params.with_overrides(split(variant)[0])
            ratings = await inputs.rating_keys(user_id)
            mine = await inputs.channel_ids(user_id)
            fitted = self._models.get(user_id)
            if fitted is None or not self._models.fresh(fitted, ratings, params):
                channels |= {int(r["channel_id"]) for r in ratings} | set(mine)
                if params.collaborative and ratings:
                    peer_users.append(user_id)
            rated = [r["post_id"] for r in ratings]
            all_slots.append(self._corpus.index.candidates(mine, rated, CANDIDATE_LIMIT))  # no lock: see `_prepare`
            all_slots.append(self._corpus.index.slots(rated))
        await inputs.read_priors(channels)
        await inputs.read_peers(sorted(set(peer_users)))
        await self._corpus.ensure_missing(all_slots)

    async def score_arrivals(self, user_ids: list[int], post_ids: list[int]) -> dict[int, Arrival]:
        """New posts scored for many users at once (`ppb.core.arrivals`)."""
        return await self._arrivals.score(user_ids, post_ids)

    def stats(self) -> dict[str, int]:
        """What this process holds: cached models, indexed posts, the vector generation, the
        stored text model in use (0: one estimated here)."""
        return {"models": len(self._models), **self._corpus.stats()}

    async def sync(self, also_ids: list[int] | None = None) -> None:
        """Learn of posts stored since the last call (and of `also_ids`)."""
        await self._corpus.sync(also_ids)

    def _choose_many(
        self, jobs: list[PageJob], final: bool
    ) -> list[tuple[list[tuple[int, float]], Mapping[int, tuple[int, ...]]] | None]:
        """Each job's page (`PageRanker.choose_many`) and the copies collapsed into its posts;
        runs in a worker thread, holding the index lock for the whole ranking."""
        with self._corpus.lock:
            pages = self._ranking.choose_many(jobs, final, time.time())
            return [None if page is None else (page, self._ranking.copies(job.user_id))
                    for job, page in zip(jobs, pages, strict=True)]


def also_in(post: Row, copy_ids: Sequence[int], rows: Mapping[int, Row]) -> list[Row]:
    """Where else the post's story appeared: one entry per other channel among its copies
    (still stored), with a link to the copy when its channel has a username."""
    seen = {post["channel_id"]}
    found = []
    for copy_id in copy_ids:
        copy = rows.get(copy_id)
        if copy is None or copy["channel_id"] in seen:
            continue
        seen.add(copy["channel_id"])
        username = copy.get("channel_username")
        message = copy.get("telegram_message_id")
        found.append({"post_id": copy_id, "channel_title": copy.get("channel_title") or "",
                      "channel_username": username,
                      "url": f"https://t.me/{username}/{message}" if username and message else None})
    return found


def _quote(text: str) -> str:
    """The start of a post, cut at a word, for an explanation to quote."""
    line = " ".join(text.split())
    if len(line) <= QUOTE_CHARS:
        return line
    cut = line[:QUOTE_CHARS].rsplit(" ", 1)[0]
    return (cut if len(cut) > QUOTE_CHARS // 2 else line[:QUOTE_CHARS]) + "…"
