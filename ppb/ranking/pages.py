"""A page from a prepared ranking: the regression's log-odds, the ratings spread over the
neighbour graph of the posts ranked over, both into scores, and the walk that keeps one
post per story and the exploration slot (`model.choose`). Pure numpy and scipy over a
`PostIndex`; the caller (`ppb.core.scoring`) holds the index's lock."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from ppb.ranking.dials import ChannelDials
from ppb.ranking.explain import Explanation, PageStats, explain
from ppb.ranking.index import PostIndex
from ppb.ranking.model import UserModel, choose, least_known, scores, seed_vector
from ppb.ranking.propagation import graph, spread

GRAPH_CACHE = 200
"""Neighbour graphs kept, one per set of posts ranked over (users of the same channels
share one; about 1.6 MB each at 10k posts)."""
SPREAD_WIDTH = 16
"""Users of the same posts whose ratings one sparse-by-dense product spreads at once (a
column's values are those the user's own product gives: a page is the same alone or not)."""
SPREAD_TOGETHER_FROM = 6
"""Fewer users than this are spread one by one (scipy's product of a few columns is slower
than as many single ones)."""
TRACES = 2_000
"""Users whose last page is kept (its request, about 80 KB at 10k candidates, and its
standardization), so explaining one of its posts needs only that post's spreading."""
_DAY = 86400.0


@dataclass(frozen=True, slots=True)
class PageJob:
    """One ranking prepared: the model, the generation it was fitted at, the candidates."""

    user_id: int
    model: UserModel
    generation: int
    slots: np.ndarray
    rated_slots: np.ndarray
    limit: int
    dials: ChannelDials | None = None  # the person's channel dials (None: all normal)


@dataclass(frozen=True, slots=True)
class PageTrace:
    """What a user's last page was ranked with: the request (model, candidates, dials), the
    set of posts (its digest), the standardization, the posts the exploration slot took and
    the copies collapsed."""

    job: PageJob
    digest: bytes | None
    stats: PageStats
    explored: frozenset[int]
    copies: Mapping[int, tuple[int, ...]] = field(default_factory=dict)
    """Each chosen post's copies collapsed into it (the same story in other posts)."""


def _unit(rows: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.maximum(norms, 1e-9)


class PageRanker:
    """Pages over one index, with the neighbour graphs of the sets of posts asked for."""

    def __init__(self, index: PostIndex, graph_cache: int = GRAPH_CACHE) -> None:
        self.index = index
        self._graph_cache = graph_cache
        self._graphs: dict[tuple[int, int, bytes], sparse.csr_matrix] = {}
        self._traces: dict[int, PageTrace] = {}

    def choose_many(self, jobs: list[PageJob], final: bool, now: float) -> list[list[tuple[int, float]] | None]:
        """(post id, score) of each job's best candidates (the caller holds the index's lock).

        Jobs over the same posts (users of the same channels) share the neighbour graph and
        one product for their spreading; each regression reads only the model's columns
        (a product per user: BLAS's result for one column of a wider product differs in the
        last bits, and a page must not depend on who else was asked for). None: the job's
        vectors or model are of an older text model (ranked anyway when `final`).
        """
        out: list[list[tuple[int, float]] | None] = [None] * len(jobs)
        groups: dict[tuple[bytes, int], list[tuple[int, np.ndarray, np.ndarray]]] = {}
        for n, job in enumerate(jobs):
            slots, rated_slots = job.slots, job.rated_slots
            missing = self.index.missing_vectors(slots)
            if (len(missing) or job.generation != self.index.generation) and not final:
                continue
            if len(missing):  # the last attempt: rank what is still valid
                slots = slots[~np.isin(slots, missing)]
            if not len(slots):
                out[n] = []
                continue
            if not job.model.learned:
                out[n] = self._ranked(job, slots, now, None, None)
                continue
            digest, nodes = self._nodes(slots, rated_slots)
            groups.setdefault((digest, id(job.model.text_model)), []).append((n, slots, nodes))
        for (digest, _), members in groups.items():
            nodes = members[0][2]
            normalized = self._graph(digest, nodes)
            node_ids = self.index.ids(nodes)
            text = jobs[members[0][0]].model.text_model
            for start in range(0, len(members), SPREAD_WIDTH):
                part = members[start : start + SPREAD_WIDTH]
                models = [jobs[n].model for n, _, _ in part]
                seeds = np.stack([seed_vector(node_ids, model) for model in models], axis=1)
                if len(part) >= SPREAD_TOGETHER_FROM:
                    spread_values = spread(normalized, seeds)
                else:  # a product of few columns costs more than that many single ones
                    spread_values = np.stack([spread(normalized, seeds[:, k]) for k in range(len(part))], axis=1)
                for k, (n, slots, _) in enumerate(part):
                    where = np.searchsorted(nodes, slots)
                    direction = models[k].direction[:, None]
                    decision = self.index.dot_columns(slots, direction, text.model_columns)[:, 0]
                    decision = decision + np.float32(models[k].intercept)
                    out[n] = self._ranked(jobs[n], slots, now, decision, spread_values[where, k], digest)
        return out

    def explain(self, job: PageJob, post_id: int, now: float) -> Explanation | None:
        """Why `post_id` (one of the job's candidates) ranks where it does, from the values
        its page was ranked with (the page ranked again when this user's last one was over
        other posts or another model). None: the vectors are of an older text model."""
        slots = job.slots[~np.isin(job.slots, self.index.missing_vectors(job.slots))]
        slot = self.index.slots([post_id])
        if job.generation != self.index.generation or not len(slot) or slot[0] not in slots:
            return None
        model = job.model
        channel = int(self.index.channels(slot)[0])
        age = max(0.0, (now - float(self.index.times(slot)[0])) / _DAY)
        shift = float(job.dials.shifts.get(channel, 0.0)) if job.dials is not None else 0.0
        if not model.learned:
            return explain(model, post_id, channel, age, shift=shift)
        rated_slots = job.rated_slots[~np.isin(job.rated_slots, self.index.missing_vectors(job.rated_slots))]
        digest, nodes = self._nodes(slots, rated_slots)
        trace = self._traces.get(job.user_id)
        if trace is None or trace.job.model is not model or trace.digest != digest:
            self.choose_many([job], True, now)  # ranks the page as `best` would, and keeps its trace
            trace = self._traces.get(job.user_id)
            if trace is None:
                return None
        # the post's row of the (symmetric) spreading operator: posts are linked within their
        # channel only, so spreading from the post over its channel's nodes gives all of it
        mine = nodes[self.index.channels(nodes) == channel]
        unit = np.zeros(len(mine), dtype=np.float32)
        unit[np.searchsorted(mine, slot[0])] = 1.0
        at = np.searchsorted(nodes, mine)
        influence = spread(self._graph(digest, nodes)[at][:, at], unit)
        text = model.text_model
        decision = float(self.index.dot_columns(slot, model.direction[:, None], text.model_columns)[0, 0])
        return explain(
            model, post_id, channel, age,
            decision=decision + model.intercept,
            stats=trace.stats,
            influence=influence,
            node_ids=self.index.ids(mine),
            fingerprint=self.index.vectors(slot)[0, text.fingerprint_columns],
            shift=shift,
            explored=post_id in trace.explored,
        )

    @staticmethod
    def _nodes(slots: np.ndarray, rated_slots: np.ndarray) -> tuple[bytes, np.ndarray]:
        """The graph's nodes (candidates and rated posts, sorted slots) and their digest."""
        nodes = np.sort(np.concatenate([slots, rated_slots]))  # disjoint: candidates are unrated
        if len(nodes) > 1 and (nodes[1:] == nodes[:-1]).any():
            nodes = np.unique(nodes)
        return hashlib.blake2b(nodes.tobytes(), digest_size=16).digest(), nodes

    def _ranked(
        self,
        job: PageJob,
        slots: np.ndarray,
        now: float,
        decision: np.ndarray | None,
        spread_values: np.ndarray | None,
        digest: bytes | None = None,
    ) -> list[tuple[int, float]]:
        """The job's page from its candidates' regression and spread values (None before
        anything is learned: the channel baseline alone); the index lock is held. What it
        was ranked with is kept for `explain`."""
        model = job.model
        ids = self.index.ids(slots)
        channels = self.index.channels(slots)
        ages = np.maximum(0.0, (now - self.index.times(slots)) / _DAY)
        if decision is None:
            decision = np.zeros(len(slots), dtype=np.float32)
        uncertainty = least_known(decision, spread_values) if spread_values is not None else None
        relevance = scores(model, decision, channels, ages, spread_values)
        if job.dials is not None:
            relevance = job.dials.apply(relevance, channels)
        text = model.text_model
        columns = text.fingerprint_columns
        choice = choose(
            model,
            relevance,
            ids,
            lambda i: self.index.vectors(slots[i])[:, columns],
            ages,
            job.limit,
            uncertainty,
            channels,
            lambda i: _unit(self.index.vectors(slots[i])[:, text.meaning_columns]),
        )
        chosen = choice.chosen
        copies = {int(ids[i]): tuple(ids[choice.copies[i]].tolist()) for i in chosen if i in choice.copies}
        self._keep_trace(job, digest, PageStats.of(decision, spread_values), ids[chosen[choice.by_score:]], copies)
        return [(int(ids[i]), float(relevance[i])) for i in chosen]

    def last_job(self, user_id: int) -> PageJob | None:
        """The request of the user's last page (what the person is looking at)."""
        trace = self._traces.get(user_id)
        return None if trace is None else trace.job

    def copies(self, user_id: int) -> Mapping[int, tuple[int, ...]]:
        """The copies collapsed into each post of the user's last page (by post id)."""
        trace = self._traces.get(user_id)
        return {} if trace is None else trace.copies

    def _keep_trace(
        self, job: PageJob, digest: bytes | None, stats: PageStats, explored: np.ndarray,
        copies: Mapping[int, tuple[int, ...]],
    ) -> None:
        self._traces.pop(job.user_id, None)
        self._traces[job.user_id] = PageTrace(job, digest, stats, frozenset(explored.tolist()), copies)
        while len(self._traces) > TRACES:
            self._traces.pop(next(iter(self._traces)))

    def _graph(self, digest: bytes, nodes: np.ndarray) -> sparse.csr_matrix:
        """The neighbour graph over a set of posts (candidates and rated, sorted slots).

        Rating moves a post from one kind to the other but keeps the set, and users of the
        same channels rank over the same set: a graph is kept per set until a post arrives,
        leaves, or the text model changes.
        """
        key = (self.index.generation, self.index.links, digest)
        cached = self._graphs.pop(key, None)
        if cached is None:
            cached = graph(*self.index.neighbours_within(nodes))
        self._graphs[key] = cached
        while len(self._graphs) > self._graph_cache:
            self._graphs.pop(next(iter(self._graphs)))
        return cached
