"""A replica's memory of the corpus: every post's channel and time, a bounded cache of
post vectors, and each post's nearest neighbours in its channel. A vector stays valid until
the text model is re-estimated (which bumps the generation) or its post is edited
(`invalidate`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from ppb.ranking.propagation import K, nearest

_GROW = 1024
NEIGHBOUR_POOL = 4000
"""A new post's neighbours are looked for among its channel's newest vectorized posts."""


@dataclass(frozen=True, slots=True)
class StoredNeighbours:
    """Neighbours the embedding stage found for some posts: `K` post ids (-1: none) and
    weights a post, and which posts have them (`found`)."""

    found: np.ndarray
    ids: np.ndarray
    weights: np.ndarray


class _Column:
    """A growable numpy column (amortized O(1) append)."""

    def __init__(self, dtype: type) -> None:
        self.data = np.zeros(_GROW, dtype=dtype)
        self.size = 0

    def extend(self, values: np.ndarray) -> None:
        needed = self.size + len(values)
        if needed > len(self.data):
            grown = np.zeros(max(needed, 2 * len(self.data)), dtype=self.data.dtype)
            grown[: self.size] = self.data[: self.size]
            self.data = grown
        self.data[self.size : needed] = values
        self.size = needed

    def view(self) -> np.ndarray:
        return self.data[: self.size]


class PostIndex:
    """Posts by id: channel, time, and (for the most recently vectorized) a dense vector.

    Vectors live in a ring of `capacity` rows; the oldest is overwritten first, so memory
    stays at `capacity * dimensions * 4` bytes whatever the corpus size. Neighbours take
    `K` slots and weights per post.
    """

    def __init__(self, capacity: int = 100_000, dimensions: int = 768) -> None:
        self.capacity = capacity
        self.dimensions = dimensions
        self.generation = 0
        self._slot: dict[int, int] = {}
        self._ids = _Column(np.int64)
        self._channels = _Column(np.int64)
        self._times = _Column(np.float64)
        self._vector_row = _Column(np.int64)
        self._incomplete = _Column(np.bool_)  # a vector whose sentence part is not made yet
        self._neighbours = _Column(np.int64)  # K slots per post, flat; -1 for none
        self._neighbour_weights = _Column(np.float32)
        self._by_channel: dict[int, _Column] = {}
        self._ring = np.zeros((0, dimensions), dtype=np.float32)
        self._ring_owner = np.full(capacity, -1, dtype=np.int64)
        self._ring_next = 0
        self.max_id = 0
        self.links = 0
        """Bumped when a post's neighbours are found again (a graph made before is stale)."""

    def __len__(self) -> int:
        return self._ids.size

    def __contains__(self, post_id: int) -> bool:
        return post_id in self._slot

    def add(self, ids: Sequence[int], channels: Sequence[int], times: Sequence[float]) -> None:
        """Remember posts (already known ids are ignored)."""
        fresh = [n for n, post_id in enumerate(ids) if post_id not in self._slot]
        if not fresh:
            return
        start = self._ids.size
        new_ids = np.asarray([ids[n] for n in fresh], dtype=np.int64)
        new_channels = np.asarray([channels[n] for n in fresh], dtype=np.int64)
        self._ids.extend(new_ids)
        self._channels.extend(new_channels)
        self._times.extend(np.asarray([times[n] for n in fresh], dtype=np.float64))
        self._vector_row.extend(np.full(len(fresh), -1, dtype=np.int64))
        self._incomplete.extend(np.zeros(len(fresh), dtype=np.bool_))
        self._neighbours.extend(np.full(len(fresh) * K, -1, dtype=np.int64))
        self._neighbour_weights.extend(np.zeros(len(fresh) * K, dtype=np.float32))
        slots = np.arange(start, start + len(fresh))
        self._slot.update(zip(new_ids.tolist(), slots.tolist()))
        for channel in np.unique(new_channels).tolist():
            self._by_channel.setdefault(channel, _Column(np.int64)).extend(slots[new_channels == channel])
        self.max_id = max(self.max_id, int(new_ids.max()))

    def forget(self, post_ids: Iterable[int]) -> None:
        """Drop deleted posts from the candidate lists."""
        gone = {self._slot.pop(post_id) for post_id in post_ids if post_id in self._slot}
        if not gone:
            return
        for column in self._by_channel.values():
            kept = column.view()[~np.isin(column.view(), list(gone))]
            column.size = 0
            column.extend(kept)

    def slots(self, post_ids: Sequence[int]) -> np.ndarray:
        """Slots of known posts, in order; unknown ids are left out."""
        return np.asarray([self._slot[p] for p in post_ids if p in self._slot], dtype=np.int64)

    def candidates(self, channels: Iterable[int], exclude: Iterable[int], limit: int) -> np.ndarray:
        """Slots of the newest `limit` posts of these channels, minus the excluded ids."""
        parts = [self._by_channel[c].view() for c in channels if c in self._by_channel]
        if not parts:
            return np.zeros(0, dtype=np.int64)
        slots = np.concatenate(parts)
        excluded = self.slots(list(exclude))
        if len(excluded):
            slots = slots[~np.isin(slots, excluded)]
        if len(slots) > limit:
            slots = slots[np.argpartition(-self._times.data[slots], limit - 1)[:limit]]
        return slots

    def ids(self, slots: np.ndarray) -> np.ndarray:
        return self._ids.data[slots]

    def channels(self, slots: np.ndarray) -> np.ndarray:
        return self._channels.data[slots]

    def times(self, slots: np.ndarray) -> np.ndarray:
        return self._times.data[slots]

    def missing_vectors(self, slots: np.ndarray) -> np.ndarray:
        """Those of `slots` with no vector of the current generation."""
        rows = self._vector_row.data[slots]
        return slots[rows < 0]

    def incomplete_vectors(self, slots: np.ndarray) -> np.ndarray:
        """Those of `slots` whose cached vector lacks its sentence part (not embedded yet)."""
        rows = self._vector_row.data[slots]
        return slots[(rows >= 0) & self._incomplete.data[slots]]

    def invalidate(self, slots: np.ndarray) -> None:
        """Forget the cached vectors of `slots` (their posts' text changed): made again on
        their next use, with their neighbours."""
        rows = self._vector_row.data[slots]
        self._ring_owner[rows[rows >= 0]] = -1
        self._vector_row.data[slots] = -1
        self._incomplete.data[slots] = False
        flat = (slots[:, None] * K + np.arange(K)).ravel()
        self._neighbours.data[flat] = -1
        self.links += 1

    def incomplete_count(self) -> int:
        """Cached vectors still waiting for their sentence part."""
        rows = self._vector_row.view()
        return int((self._incomplete.view() & (rows >= 0)).sum())

    def complete(self, slots: np.ndarray, vectors: np.ndarray, graph_columns: slice) -> None:
        """Replace cached vectors by whole ones (their sentence part arrived) in place, and
        find those posts' neighbours again."""
        self._ring[self._vector_row.data[slots]] = vectors
        self._incomplete.data[slots] = False
        self._link(slots, graph_columns)
        self.links += 1

    def put_vectors(
        self,
        slots: np.ndarray,
        vectors: np.ndarray,
        graph_columns: slice | None = None,
        incomplete: np.ndarray | None = None,
        stored: StoredNeighbours | None = None,
    ) -> None:
        """Cache vectors for these slots, overwriting the oldest cached ones when full;
        with `graph_columns`, also find each post's nearest neighbours in its channel, or
        take those the embedding stage found (`stored`, where it has them). `incomplete`
        marks the vectors still waiting for their sentence part."""
        if len(slots) > self.capacity:
            raise ValueError(f"{len(slots)} vectors do not fit a cache of {self.capacity}")
        if len(self._ring) < min(self.capacity, self._ring_next + len(slots)):
            size = min(self.capacity, max(len(self._ring) * 2, self._ring_next + len(slots), _GROW))
            grown = np.zeros((size, self.dimensions), dtype=np.float32)
            grown[: len(self._ring)] = self._ring
            self._ring = grown
        rows = (self._ring_next + np.arange(len(slots))) % self.capacity
        self._ring_next = int((self._ring_next + len(slots)) % self.capacity)
        earlier = self._vector_row.data[slots]
        self._ring_owner[earlier[earlier >= 0]] = -1  # a slot put again leaves its old row ownerless
        owners = self._ring_owner[rows]
        self._vector_row.data[owners[owners >= 0]] = -1
        self._ring_owner[rows] = slots
        self._vector_row.data[slots] = rows
        self._ring[rows] = vectors
        self._incomplete.data[slots] = False if incomplete is None else incomplete
        if graph_columns is not None:
            linked = np.zeros(len(slots), dtype=bool) if stored is None else stored.found
            if linked.any():
                self._take_links(slots[linked], stored.ids[linked], stored.weights[linked])
            if not linked.all():
                self._link(slots[~linked], graph_columns)

    def _take_links(self, slots: np.ndarray, ids: np.ndarray, weights: np.ndarray) -> None:
        """Neighbours found elsewhere (by post id) as these slots' own; a neighbour this
        index does not know (deleted, or not caught up yet) is left out."""
        found = np.fromiter((self._slot.get(i, -1) for i in ids.ravel().tolist()), np.int64, ids.size)
        flat = (slots[:, None] * K + np.arange(K)).ravel()
        self._neighbours.data[flat] = found
        self._neighbour_weights.data[flat] = np.where(found >= 0, weights.ravel(), 0.0)

    def _link(self, slots: np.ndarray, columns: slice) -> None:
        """Neighbours of `slots` among their channel's newest posts that have vectors."""
        channels = self._channels.data[slots]
        for channel in np.unique(channels).tolist():
            mine = slots[channels == channel]
            pool = self._by_channel[channel].view()
            pool = pool[self._vector_row.data[pool] >= 0]
            if len(pool) > NEIGHBOUR_POOL:
                pool = pool[np.argpartition(-self._times.data[pool], NEIGHBOUR_POOL - 1)[:NEIGHBOUR_POOL]]
            pool_rows = self._ring[self._vector_row.data[pool], columns]
            where = {slot: n for n, slot in enumerate(pool.tolist())}
            own = np.array([where.get(slot, -1) for slot in mine.tolist()], dtype=np.int64)
            positions, weights = nearest(self._ring[self._vector_row.data[mine], columns], pool_rows, own)
            found = np.where(positions >= 0, pool[np.maximum(positions, 0)], -1)
            flat = (mine[:, None] * K + np.arange(K)).ravel()
            self._neighbours.data[flat] = found.ravel()
            self._neighbour_weights.data[flat] = weights.ravel()

    def neighbours_within(self, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each node's neighbours as positions in `nodes` (-1 when outside), and weights."""
        flat = (nodes[:, None] * K + np.arange(K)).ravel()
        found = self._neighbours.data[flat].reshape(-1, K)
        weights = self._neighbour_weights.data[flat].reshape(-1, K)
        order = np.argsort(nodes)
        where = np.minimum(np.searchsorted(nodes, found, sorter=order), len(nodes) - 1)
        local = order[where]
        inside = (found >= 0) & (nodes[local] == found)
        return np.where(inside, local, -1), np.where(inside, weights, 0.0)

    def vectors(self, slots: np.ndarray) -> np.ndarray:
        """Cached vectors of `slots` (each must have one: see `missing_vectors`)."""
        rows = self._vector_row.data[slots]
        if len(rows) and rows.min() < 0:
            raise KeyError("some posts have no cached vector")
        return self._ring[rows]

    def dot(self, slots: np.ndarray, direction: np.ndarray, chunk: int = 1024) -> np.ndarray:
        """`vectors(slots) @ direction` without copying rows when it can.

        Rows vectorized together sit together in the ring, so usually one pass over the
        span they cover (a sequential read) beats gathering them (a random one).
        """
        rows = self._vector_row.data[slots]
        if not len(rows):
            return np.zeros(0, dtype=np.float32)
        low, high = int(rows.min()), int(rows.max())
        if low < 0:
            raise KeyError("some posts have no cached vector")
        if high - low < 4 * len(rows):
            return (self._ring[low : high + 1] @ direction)[rows - low]
        out = np.empty(len(rows), dtype=np.float32)
        buffer = np.empty((min(chunk, len(rows)), self.dimensions), dtype=np.float32)
        for start in range(0, len(rows), chunk):
            part = rows[start : start + chunk]
            np.take(self._ring, part, axis=0, out=buffer[: len(part)])
            np.matmul(buffer[: len(part)], direction, out=out[start : start + len(part)])
        return out

    def dot_columns(self, slots: np.ndarray, directions: np.ndarray, columns: slice) -> np.ndarray:
        """`vectors(slots)[:, columns] @ directions` (one column per direction), reading only
        those columns, over the span of the ring the rows cover when they sit together."""
        rows = self._vector_row.data[slots]
        if not len(rows):
            return np.zeros((0, directions.shape[1]), dtype=np.float32)
        low, high = int(rows.min()), int(rows.max())
        if low < 0:
            raise KeyError("some posts have no cached vector")
        if high - low < 4 * len(rows):
            return (self._ring[low : high + 1, columns] @ directions)[rows - low]
        return self._ring[rows, columns] @ directions

    def new_generation(self) -> None:
        """The word weights changed: every cached vector is stale."""
        self.generation += 1
        self._vector_row.data[: self._vector_row.size] = -1
        self._neighbours.data[: self._neighbours.size] = -1
        self._ring_owner[:] = -1
