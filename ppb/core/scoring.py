"""Ranking on top of the store: fit a user's model from their ratings, rank their candidates.

Everything here is a per-process cache rebuilt from the store on a miss, so any process
(an API process, or any Scorer replica) can serve any user: the corpus index (each post's
channel and time, caught up by id), post vectors (their sentence part read from the store,
made again when the store has a new one: the post was edited), per-user models (keyed by the
user's rating history) and the word weights.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import numpy as np

from ppb.core.batching import NaturalBatches
from ppb.core.ports import Ranker
from ppb.core.scoring_inputs import BatchInputs, StoreInputs
from ppb.domain.errors import NotFound
from ppb.domain.interactions import RATING_TARGET, InteractionType
from ppb.ranking import (
    CORPUS_SAMPLE,
    DEFAULT_PARAMS,
    Params,
    PostIndex,
    Rated,
    TextModel,
    UserModel,
    fit,
    load_encoder,
    outgrown,
    peer_seeds,
    similar_peers,
)
from ppb.ranking.dials import split
from ppb.ranking.explain import Explanation
from ppb.ranking.index import StoredNeighbours
from ppb.ranking.live import NEVER, live_threshold
from ppb.ranking.pages import SPREAD_WIDTH, PageJob, PageRanker
from ppb.ranking.propagation import K
from ppb.ranking.threads import limit_blas_threads
from ppb.store.queries import Row, Store, as_utc
from ppb.store.vectors import NEIGHBOUR_BYTES, neighbours_model, ngram_model, unpack_neighbours

CANDIDATE_LIMIT = 10_000
PRIOR_TTL_S = 60.0
"""Refit a cached model this often even without new ratings: other users' ratings move
the channel prior."""
RANK_ATTEMPTS = 3
"""Rankings tried again when the text model was re-estimated while the candidates' vectors
were being made (the vectors made then are discarded), before ranking what is left."""
SYNC_BATCH = 20_000
GAP_WINDOW = 1_000
GAP_TTL_S = 30.0
"""Ids missing below the newest one seen are asked for again for this long: a concurrent
insert may commit after a later one (PostgreSQL sequences), or never (a conflict)."""
COMPLETE_EVERY_S = 1.0
"""How often posts ranked without their sentence vector look for it in the store again, and
the store is asked for vectors made again (edited posts)."""
EDIT_OVERLAP = timedelta(seconds=5)
"""How far back each look for vectors made again reaches past the previous one (a vector
written just before that look may commit after it)."""
EXPLAIN_PAGE = 10
"""The page an explanation ranks when the user's last one is gone (another replica ranked
it, or the model was refit since): the exploration slot is that of a page of 10."""
QUOTE_CHARS = 80
"""How much of a liked post an explanation quotes."""
_DAY = 86400.0


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


@dataclass(slots=True)
class FittedModel:
    model: UserModel
    version: tuple[Any, ...]
    fitted_at: float
    waiting_links: int | None = None
    """When some rated posts had no sentence vector yet: the index's `links` then (the model
    is fitted again once any post is completed)."""


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
        self._cache: dict[int, FittedModel] = {}
        self._cache_size = cache_size
        self._params = params
        self._encoder = load_encoder(embeddings)
        self._text = TextModel(encoder=self._encoder)
        self._index = PostIndex(vector_cache, self._text.dimensions)
        self._ranking = PageRanker(self._index)
        self._lock = threading.Lock()  # index reads in worker threads vs. writes in the loop
        self._sync_lock = asyncio.Lock()
        self._text_lock = asyncio.Lock()
        self._embed_lock = asyncio.Lock()
        self._pages: NaturalBatches[tuple[int, int, dict[str, Any] | None], list[tuple[Row, float]]] = (
            NaturalBatches(self.best_many, SPREAD_WIDTH)
        )
        self._gaps: dict[int, float] = {}
        self._thresholds: dict[int, tuple[tuple[Any, ...], float]] = {}
        self._completed_at = 0.0
        self._complete_every_s = complete_every_s
        self._edits_since = datetime.now(UTC)
        self._edits_checked_at = 0.0
        self._text_version: int | None = None
        """The stored text model in use (None: estimated here, while the store has none)."""
        self._text_checked_at = -complete_every_s
        self._text_checked_posts = 0

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
        await self._fit(user_id, ratings, await self._channel_ids(user_id), self._params)
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
            await self._ensure_missing([j.slots for _, j in jobs] + [j.rated_slots for _, j in jobs])
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
        fitted = self._cache.get(user_id)
        if fitted is None or not self._fresh(fitted, ratings, params):
            fitted = await self._fit(user_id, ratings, channels, params, inputs)
        rated = [row["post_id"] for row in ratings]
        # no lock: posts are added and forgotten only on the loop, and a worker's ranking
        # holds the lock for its whole run (waiting for it would stall every request)
        ranked = channels if dials is None else dials.ranked_channels(channels)
        slots = self._index.candidates(ranked, rated, CANDIDATE_LIMIT)
        rated_slots = self._index.slots(rated)
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
        rows = await self._rows([(i, 0.0) for i in sorted(chosen_ids | copy_ids)])  # one statement
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
        if post_id not in self._index:  # else no catching up: the page it was on is over the same posts
            await self.sync([post_id])
        if post_id not in self._index:
            raise NotFound(f"post_id: post {post_id} not found")
        explanation: Explanation | None = None
        shown = self._ranking.last_job(user_id)  # the page the person is looking at, as it was ranked
        if shown is not None and np.isin(self._index.slots([post_id]), shown.slots).all():
            explanation = await asyncio.to_thread(self._explain_job, shown, post_id)
        for _ in range(0 if explanation is not None else RANK_ATTEMPTS):
            job = await self._prepare(user_id, EXPLAIN_PAGE, variant, StoreInputs(self._store))
            with self._lock:
                slot = self._index.slots([post_id])
            if job is None or not np.isin(slot, job.slots).all():  # rated, or not in the person's channels
                job = self._with_candidate(job, user_id, slot)
            await self._ensure_missing([job.slots, job.rated_slots])
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
        fitted = self._cache[user_id]
        if job is None:
            return PageJob(user_id, fitted.model, fitted.version[0], slot, np.zeros(0, np.int64), EXPLAIN_PAGE)
        return replace(
            job,
            slots=np.concatenate([job.slots, slot]),
            rated_slots=job.rated_slots[~np.isin(job.rated_slots, slot)],
        )

    def _explain_job(self, job: PageJob, post_id: int) -> Explanation | None:
        """`PageRanker.explain` in a worker thread, holding the index lock."""
        with self._lock:
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
            fitted = self._cache.get(user_id)
            if fitted is None or not self._fresh(fitted, ratings, params):
                channels |= {int(r["channel_id"]) for r in ratings} | set(mine)
                if params.collaborative and ratings:
                    peer_users.append(user_id)
            rated = [r["post_id"] for r in ratings]
            all_slots.append(self._index.candidates(mine, rated, CANDIDATE_LIMIT))  # no lock: see `_prepare`
            all_slots.append(self._index.slots(rated))
        await inputs.read_priors(channels)
        await inputs.read_peers(sorted(set(peer_users)))
        await self._ensure_missing(all_slots)

    async def score_arrivals(self, user_ids: list[int], post_ids: list[int]) -> dict[int, Arrival]:
        """New posts scored for many users at once: their vectors once, one matrix product
        for every learned user, and each user's live threshold (`ppb.ranking.live`)."""
        await self.sync(list(post_ids))
        with self._lock:
            slots = self._index.slots(post_ids)
        if not len(slots):
            return {}
        await self._ensure_vectors(slots)
        models: list[tuple[int, UserModel, float]] = []
        results: dict[int, Arrival] = {}
        all_ratings = await self._store.rating_keys_many(user_ids)  # one query for everyone
        for user_id in user_ids:
            fitted, ratings = await self._fitted(user_id, all_ratings.get(user_id, []))
            if not fitted.model.learned:
                results[user_id] = Arrival({}, NEVER)
                continue
            models.append((user_id, fitted.model, await self._threshold(user_id, fitted, ratings)))
        if models:
            scored = await asyncio.to_thread(self._decisions, slots, [model for _, model, _ in models])
            for (user_id, _, threshold), (ids, values) in zip(models, scored):
                results[user_id] = Arrival(dict(zip(ids, values)), threshold)
        return results

    async def _fitted(self, user_id: int, ratings: list[Row]) -> tuple[FittedModel, list[Row]]:
        """The cached model while the person's ratings are the same (the channel prior's
        drift, which `best` refits for, does not move the text's log-odds)."""
        fitted = self._cache.get(user_id)
        if fitted is None or fitted.version != self._version(ratings, self._params):
            fitted = await self._fit(user_id, ratings, await self._channel_ids(user_id), self._params)
        return fitted, ratings

    async def _threshold(self, user_id: int, fitted: FittedModel, ratings: list[Row]) -> float:
        cached = self._thresholds.get(user_id)
        if cached is not None and cached[0] == fitted.version:
            return cached[1]
        liked = [r["post_id"] for r in ratings if r["interaction_type"] == InteractionType.LIKE]
        others = [r["post_id"] for r in ratings if r["interaction_type"] != InteractionType.LIKE]
        with self._lock:
            liked_slots, other_slots = self._index.slots(liked), self._index.slots(others)
        await self._ensure_vectors(np.union1d(liked_slots, other_slots).astype(np.int64))
        values = await asyncio.to_thread(self._decisions, np.concatenate([liked_slots, other_slots]), [fitted.model])
        decisions = dict(zip(*values[0]))
        with self._lock:
            liked_ids, other_ids = self._index.ids(liked_slots).tolist(), self._index.ids(other_slots).tolist()
        threshold = live_threshold(np.asarray([decisions[i] for i in liked_ids if i in decisions]),
                                   np.asarray([decisions[i] for i in other_ids if i in decisions]))
        self._thresholds[user_id] = (fitted.version, threshold)
        while len(self._thresholds) > self._cache_size:
            self._thresholds.pop(next(iter(self._thresholds)))
        return threshold

    def _decisions(self, slots: np.ndarray, models: list[UserModel]) -> list[tuple[list[int], list[float]]]:
        """Each model's log-odds of a like for the posts at `slots`; runs in a worker thread."""
        with self._lock:
            valid = slots[~np.isin(slots, self._index.missing_vectors(slots))] if len(slots) else slots
            ids = self._index.ids(valid).tolist()
            if not len(valid):
                return [([], []) for _ in models]
            rows = self._index.vectors(valid)
        out = []
        columns = [model.text_model.model_columns for model in models]
        if all(c == columns[0] for c in columns):  # one product for everyone
            directions = np.stack([model.direction for model in models], axis=1)
            values = rows[:, columns[0]] @ directions + np.asarray([m.intercept for m in models], dtype=np.float32)
            return [(ids, values[:, k].astype(float).tolist()) for k in range(len(models))]
        for model in models:
            out.append((ids, model.decision(rows[:, model.text_model.model_columns]).astype(float).tolist()))
        return out

    def stats(self) -> dict[str, int]:
        """What this process holds: cached models, indexed posts, the vector generation, the
        stored text model in use (0: one estimated here)."""
        return {
            "models": len(self._cache),
            "posts": len(self._index),
            "generation": self._index.generation,
            "waiting_for_vectors": self._index.incomplete_count(),
            "text_model": self._text_version or 0,
        }

    async def sync(self, also_ids: list[int] | None = None) -> None:
        """Learn of posts stored since the last call (and of `also_ids`)."""
        async with self._sync_lock:
            now = time.monotonic()
            self._gaps = {i: t for i, t in self._gaps.items() if now - t < GAP_TTL_S}
            extra = sorted(set(self._gaps) | set(also_ids or ()))[-GAP_WINDOW:]
            while True:
                previous = self._index.max_id
                rows = await self._store.post_keys(previous, extra, SYNC_BATCH)
                ids = [int(row["id"]) for row in rows]
                if ids:  # the lock only when there is something to add: a ranking may hold it
                    with self._lock:
                        self._index.add(
                            ids,
                            [int(row["channel_id"]) for row in rows],
                            [as_utc(row["posted_at"]).timestamp() for row in rows],
                        )
                for post_id in ids:
                    self._gaps.pop(post_id, None)
                newer = set(ids) - set(extra)
                if newer:
                    top = max(newer)
                    for missing in range(max(previous + 1, top - GAP_WINDOW), top):
                        if missing not in newer:
                            self._gaps.setdefault(missing, now)
                if len(rows) < SYNC_BATCH:
                    break
                extra = []
        await self._follow_edits()
        await self._refresh_text_model()

    async def _follow_edits(self) -> None:
        """Posts whose vector was made again (their text was edited) lose their cached rows,
        made again from the new text on their next use; looked for at most every
        `complete_every_s`."""
        if self._encoder is None or time.monotonic() - self._edits_checked_at < self._complete_every_s:
            return
        self._edits_checked_at = time.monotonic()
        since, self._edits_since = self._edits_since, datetime.now(UTC) - EDIT_OVERLAP
        remade = await self._store.vectors_made_since(self._encoder.name, since)
        if not remade:
            return
        with self._lock:
            slots = self._index.slots(remade)
            cached = slots[~np.isin(slots, self._index.missing_vectors(slots))]
            edited = cached[~np.isin(cached, self._index.incomplete_vectors(cached))]  # complete before
            if len(edited):
                self._index.invalidate(edited)

    async def _refresh_text_model(self) -> None:
        """The text model the embedding stage keeps (its newest ready version, looked for
        at most every `complete_every_s`); while the store has none, one estimated here
        when the corpus has outgrown the one in use."""
        if await self._follow_stored_text_model():
            return
        if not self._text_stale():
            return
        async with self._text_lock:
            if not self._text_stale():
                return
            texts = await self._store.recent_post_texts(CORPUS_SAMPLE)
            if not texts:
                return
            text = await asyncio.to_thread(TextModel.fit, texts, self._encoder)
            # count the whole corpus, so the next estimate waits for it to double
            text = replace(text, idf=replace(text.idf, documents=max(len(texts), len(self._index))))
            with self._lock:
                self._text = text
                self._index.new_generation()

    async def _follow_stored_text_model(self) -> bool:
        """Switch to the store's newest ready text model (the newest at all while none is
        ready) when it is not the one in use; False while the store has none. Looked for
        when new posts were seen, else at most every `complete_every_s`."""
        grown = len(self._index) != self._text_checked_posts  # new posts: maybe a new model at once
        if not grown and time.monotonic() - self._text_checked_at < self._complete_every_s:
            return self._text_version is not None
        self._text_checked_at, self._text_checked_posts = time.monotonic(), len(self._index)
        versions = await self._store.text_model_versions()
        if not versions:
            return False
        chosen = next((v for v in versions if v.ready), versions[0])
        if chosen.version == self._text_version:
            return True
        async with self._text_lock:
            stored = await self._store.text_model(chosen.version)
            if stored is None:  # dropped meanwhile by a newer one: followed on a later look
                return self._text_version is not None
            text = TextModel.from_arrays(stored.weights, stored.components, stored.documents, self._encoder)
            with self._lock:
                self._text, self._text_version = text, chosen.version
                self._index.new_generation()
        return True

    def _text_stale(self) -> bool:
        return outgrown(self._text.documents, len(self._index))

    async def _channel_ids(self, user_id: int) -> list[int]:
        return await self._store.user_channel_ids(user_id)

    def _fresh(self, fitted: FittedModel, ratings: list[Row], params: Params) -> bool:
        return (
            fitted.version == self._version(ratings, params)
            and time.monotonic() - fitted.fitted_at < PRIOR_TTL_S
            and fitted.waiting_links in (None, self._index.links)
        )

    def _version(self, ratings: list[Row], params: Params) -> tuple[Any, ...]:
        """Changes whenever a rating is added or replaced, or the text model changes."""
        keys = ((r["post_id"], r["interaction_type"]) for r in ratings)
        return (self._index.generation, params, *keys)

    async def _fit(
        self, user_id: int, ratings: list[Row], channels: list[int], params: Params, inputs: StoreInputs | None = None
    ) -> FittedModel:
        missing = [r["post_id"] for r in ratings if r["post_id"] not in self._index]
        if missing:
            await self.sync(missing)
        with self._lock:
            slots = self._index.slots([r["post_id"] for r in ratings])
        inputs = StoreInputs(self._store) if inputs is None else inputs
        prior = await inputs.like_rates(sorted({int(r["channel_id"]) for r in ratings} | set(channels)))
        vectors, text, generation = await self._vectors(slots)
        with self._lock:
            waiting = self._index.links if len(self._index.incomplete_vectors(slots)) else None
        version = (generation, *self._version(ratings, params)[1:])
        rated = [_rated(row) for row in ratings if row["post_id"] in self._index]
        peers = await self._peer_seeds(user_id, ratings, params, inputs) if params.collaborative else None
        model = await asyncio.to_thread(fit, rated, prior, text, vectors, params, peers)
        fitted = FittedModel(model, version, time.monotonic(), waiting)
        self._cache.pop(user_id, None)
        self._cache[user_id] = fitted
        while len(self._cache) > self._cache_size:
            self._cache.pop(next(iter(self._cache)))
        return fitted

    async def _peer_seeds(
        self, user_id: int, ratings: list[Row], params: Params, inputs: StoreInputs
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """Seeds from the most alike people's ratings (two queries), or None."""
        own = {int(r["post_id"]): _seed(r["interaction_type"], params) for r in ratings}
        if not own:
            return None
        co = await inputs.co_ratings(user_id)
        peers = similar_peers(
            own, ((r["user_id"], r["post_id"], _seed(r["interaction_type"], params)) for r in co)
        )
        if not peers:
            return None
        theirs = await inputs.ratings_by(sorted(peers))
        rows = ((r["user_id"], r["post_id"], _seed(r["interaction_type"], params)) for r in theirs)
        return peer_seeds(own, peers, rows)

    async def _vectors(self, slots: np.ndarray) -> tuple[np.ndarray, TextModel, int]:
        """The vectors of `slots`, the text model they were made with and its generation."""
        while True:
            await self._ensure_vectors(slots)
            with self._lock:
                if not len(self._index.missing_vectors(slots)):  # else the model just changed
                    return self._index.vectors(slots), self._text, self._index.generation

    async def _ensure_missing(self, parts: list[np.ndarray]) -> None:
        """`_ensure_vectors` over several sets of slots (the posts of many users: the same
        posts mostly, so those missing are found per set before they are merged).

        Looked for without the lock: a vector being put meanwhile is made twice at worst,
        and one discarded meanwhile is found missing by `_choose_many`, which retries."""
        missing = [self._index.missing_vectors(part) for part in parts if len(part)]
        missing = [part for part in missing if len(part)]
        if missing:
            await self._ensure_vectors(np.unique(np.concatenate(missing)))
        elif self._encoder is not None and time.monotonic() - self._completed_at >= self._complete_every_s:
            waiting = [self._index.incomplete_vectors(part) for part in parts if len(part)]
            waiting = [part for part in waiting if len(part)]
            if waiting:
                await self._ensure_vectors(np.unique(np.concatenate(waiting)))

    async def _ensure_vectors(self, slots: np.ndarray) -> None:
        """Vectorize (once per replica) the posts among `slots` with no cached vector.

        One vectorization at a time: requests arriving together at a cold replica wait for
        the first one's vectors instead of each embedding the same posts again."""
        async with self._embed_lock:
            await self._embed_missing(slots)

    async def _embed_missing(self, slots: np.ndarray) -> None:
        """Rows for the posts with none, read from the store where the embedding stage made
        them (sentence vectors, and n-gram rows of the text model in use); the n-grams of
        the rest made here. A post not embedded yet ranks by its n-grams until its sentence
        vector is stored (never made here)."""
        with self._lock:
            missing = self._index.missing_vectors(slots)
            generation, text, version = self._index.generation, self._text, self._text_version
        if len(missing):
            ids = self._index.ids(missing).tolist()
            ngrams = ngram_model(version) if version is not None else None
            widths = {self._encoder.name: self._encoder.dimensions} if self._encoder else {}
            widths.update({ngrams: text.ngram_width} if ngrams is not None else {})
            linked = neighbours_model(version, self._encoder.name) if self._encoder and version is not None else None
            blobs = {linked: K * NEIGHBOUR_BYTES} if linked is not None else None
            found = await self._store.post_vector_rows(widths, ids, blobs) if widths else {}
            semantic, embedded = found.get(self._encoder.name, (None, None)) if self._encoder else (None, None)
            self._completed_at = time.monotonic()  # the store was just asked: no second look yet
            empty = (np.zeros((len(ids), text.ngram_width), np.float32), np.zeros(len(ids), bool))
            stored, made = found.get(ngrams, empty) if ngrams is not None else empty
            unmade = [i for i, ok in zip(ids, made.tolist(), strict=True) if not ok]
            texts = await self._store.post_texts(unmade) if unmade else {}
            vectors = await asyncio.to_thread(
                text.rows_from, stored, made, [texts.get(i, "") for i in unmade], semantic
            )
            absent = None if embedded is None else ~embedded
            stored_links = None
            if linked in found:
                blob, has = found[linked]
                stored_links = StoredNeighbours(has & made, *unpack_neighbours(blob))
            await asyncio.to_thread(
                self._put_vectors, generation, missing, vectors, text.model_columns, absent, stored_links
            )
            gone = [i for i in unmade if i not in texts]
            if gone:
                with self._lock:
                    self._index.forget(gone)
        await self._complete(slots)

    async def _complete(self, slots: np.ndarray) -> None:
        """Posts ranked so far without their sentence vector get it once it is stored
        (looked for at most every `COMPLETE_EVERY_S`)."""
        if self._encoder is None or time.monotonic() - self._completed_at < self._complete_every_s:
            return
        self._completed_at = time.monotonic()
        with self._lock:
            waiting = self._index.incomplete_vectors(slots)
            generation, text = self._index.generation, self._text
        if not len(waiting):
            return
        ids = self._index.ids(waiting).tolist()
        found = await self._store.post_vector_rows({self._encoder.name: self._encoder.dimensions}, ids)
        semantic, embedded = found[self._encoder.name]
        absent = ~embedded
        if absent.all():
            return
        with self._lock:
            if self._index.generation != generation:
                return
            arrived = waiting[~absent]
            rows = text.with_semantic(self._index.vectors(arrived), semantic[~absent])
        await asyncio.to_thread(self._complete_vectors, generation, arrived, rows, text.model_columns)

    def _complete_vectors(self, generation: int, slots: np.ndarray, rows: np.ndarray, columns: slice) -> None:
        with self._lock:
            if self._index.generation == generation and not len(self._index.missing_vectors(slots)):
                self._index.complete(slots, rows, columns)

    def _put_vectors(
        self, generation: int, slots: np.ndarray, vectors: np.ndarray, columns: slice,
        incomplete: np.ndarray | None = None, stored: StoredNeighbours | None = None,
    ) -> None:
        """Cache vectors and link the posts to their neighbours (those the stage found,
        where it has); runs in a worker thread."""
        with self._lock:
            if self._index.generation == generation:
                self._index.put_vectors(slots, vectors, columns, incomplete, stored)

    def _choose_many(
        self, jobs: list[PageJob], final: bool
    ) -> list[tuple[list[tuple[int, float]], Mapping[int, tuple[int, ...]]] | None]:
        """Each job's page (`PageRanker.choose_many`) and the copies collapsed into its posts;
        runs in a worker thread, holding the index lock for the whole ranking."""
        with self._lock:
            pages = self._ranking.choose_many(jobs, final, time.time())
            return [None if page is None else (page, self._ranking.copies(job.user_id))
                    for job, page in zip(jobs, pages, strict=True)]

    async def _rows(self, chosen: list[tuple[int, float]]) -> list[tuple[Row, float]]:
        """The chosen posts as stored now; deleted ones are dropped (and forgotten)."""
        rows = {row["id"]: row for row in await self._store.feed_posts([i for i, _ in chosen])}
        gone = [i for i, _ in chosen if i not in rows]
        if gone:
            with self._lock:
                self._index.forget(gone)
        return [(rows[i], score) for i, score in chosen if i in rows]


@dataclass(frozen=True, slots=True)
class Arrival:
    """New posts' log-odds of a like for one user, and the bar for a live push."""

    decisions: dict[int, float]
    threshold: float


def _seed(kind: str, params: Params) -> float:
    """A rating as a spreading seed: like +1, dislike -1, skip -skip_weight."""
    target = RATING_TARGET[InteractionType(kind)]
    if target == 1.0:
        return 1.0
    return -1.0 if target == 0.0 else -params.skip_weight


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


def _rated(row: Row) -> Rated:
    return Rated(
        post_id=row["post_id"],
        text="",
        channel_id=int(row["channel_id"]),
        target=RATING_TARGET[InteractionType(row["interaction_type"])],
        posted_at=as_utc(row["posted_at"]),
    )
