"""Post vectors: written by the embedding stage, read by every Scorer replica.

A vector is kept per (post, model), as float16 bytes: a new model's vectors are made beside
the old ones, and a post without one of the current model is the stage's work to do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import sqlalchemy as sa

from ppb.store.base import INSERT_CHUNK, StoreBase, utcnow, writes
from ppb.store.engine import Column, Prepared
from ppb.store.schema import post_vectors, posts, text_models

VECTOR_DTYPE = np.dtype("<f2")
READ_CHUNK = 5000
"""Posts whose vectors one statement reads (each is a bound parameter)."""


def pack(vector: np.ndarray) -> bytes:
    """A vector as stored: float16, little-endian."""
    return np.asarray(vector, dtype=VECTOR_DTYPE).tobytes()


def unpack(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=VECTOR_DTYPE).astype(np.float32)


NGRAMS = "ngrams:"
NEIGHBOURS = "neighbours:"
NEIGHBOUR_BYTES = 12
"""Bytes a neighbour takes as stored: its post id (int64) and weight (float32)."""


def ngram_model(version: int) -> str:
    """The `post_vectors` model name of the n-gram rows made with text model `version`."""
    return f"{NGRAMS}{version}"


def neighbours_model(version: int, encoder: str) -> str:
    """The `post_vectors` model name of posts' neighbours found over rows of text model
    `version` and sentence vectors of `encoder` (both halves of the row they compare)."""
    return f"{NEIGHBOURS}{version}:{encoder}"


def pack_neighbours(ids: np.ndarray, weights: np.ndarray) -> bytes:
    """One post's neighbours as stored: post ids (int64, -1 for none), then weights (float32)."""
    return np.asarray(ids, dtype="<i8").tobytes() + np.asarray(weights, dtype="<f4").tobytes()


def unpack_neighbours(blobs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of stored neighbours (uint8, `NEIGHBOUR_BYTES` per neighbour) as post ids and
    weights, one row per post."""
    k = blobs.shape[1] // NEIGHBOUR_BYTES
    blobs = np.ascontiguousarray(blobs)
    return blobs[:, : 8 * k].view("<i8").astype(np.int64), blobs[:, 8 * k :].view("<f4").astype(np.float32)


@dataclass(frozen=True, slots=True)
class StoredTextModel:
    """A text model as kept: its version, the corpus size it counted, and its arrays."""

    version: int
    documents: int
    weights: np.ndarray
    components: np.ndarray


@dataclass(frozen=True, slots=True)
class TextModelVersion:
    version: int
    documents: int
    ready: bool


VECTORS_OF = Prepared(
    sa.select(post_vectors.c.post_id, post_vectors.c.vector).where(
        post_vectors.c.model == sa.bindparam("model", type_=post_vectors.c.model.type),
        post_vectors.c.post_id.in_(sa.bindparam("post_ids", expanding=True)),
    )
)
"""Built once: a training's start reads the vectors of its channels' newest posts."""

VECTOR_COLUMNS = (Column("post_id", "bigint"), Column("model", "text"), Column("vector", "bytea"),
                  Column("created_at", "timestamptz"))
"""The columns a batch of post vectors writes, in order."""


class VectorQueries(StoreBase):
    async def unembedded_posts(
        self, model: str, after_id: int, limit: int, part: int = 0, parts: int = 1
    ) -> list[tuple[int, str]]:
        """(id, text) of posts after `after_id` with no vector of `model`, by id; with
        `parts`, only ids in this embedder's share (id modulo `parts` == `part`)."""
        made = sa.select(post_vectors.c.post_id).where(
            post_vectors.c.post_id == posts.c.id, post_vectors.c.model == model
        )
        query = sa.select(posts.c.id, posts.c.text).where(
            posts.c.id > after_id, posts.c.deleted_at.is_(None), ~sa.exists(made)
        )
        if parts > 1:
            query = query.where(posts.c.id % parts == part)
        records = await self.database.fetch_all(query.order_by(posts.c.id).limit(limit))
        return [(int(record[0]), record[1] or "") for record in records]

    async def embedding_backlog(self, model: str, part: int = 0, parts: int = 1) -> int:
        """Posts still waiting for a vector of `model` (in share `part` of `parts`)."""
        made = sa.select(post_vectors.c.post_id).where(
            post_vectors.c.post_id == posts.c.id, post_vectors.c.model == model
        )
        query = sa.select(sa.func.count()).select_from(posts).where(posts.c.deleted_at.is_(None), ~sa.exists(made))
        if parts > 1:
            query = query.where(posts.c.id % parts == part)
        return int(await self.database.fetch_val(query) or 0)

    @writes
    async def put_post_vectors(self, model: str, vectors: Sequence[tuple[int, np.ndarray | bytes]]) -> int:
        """Keep these posts' vectors of `model` (a vector made again replaces the old; bytes
        are kept as they are: neighbours); a post deleted meanwhile is skipped. Returns how
        many were written."""
        if not vectors:
            return 0
        ids = [post_id for post_id, _ in vectors]
        alive: set[int] = set()
        for begin in range(0, len(ids), INSERT_CHUNK):
            chunk = ids[begin : begin + INSERT_CHUNK]
            records = await self.database.fetch_all(sa.select(posts.c.id).where(posts.c.id.in_(chunk)))
            alive.update(int(record[0]) for record in records)
        now = utcnow()
        rows = [(post_id, model, vector if isinstance(vector, bytes) else pack(vector), now)
                for post_id, vector in vectors if post_id in alive]
        if not rows:
            return 0
        written, _ = await self.engine.insert_many(  # one prepared statement: a multi-row INSERT compiled per batch cost more
            "post_vectors", VECTOR_COLUMNS, rows,
            conflict="ON CONFLICT (post_id, model) DO UPDATE SET vector = excluded.vector, created_at = excluded.created_at")
        return written

    async def post_vectors(self, model: str, post_ids: Sequence[int]) -> dict[int, np.ndarray]:
        """The stored vectors of `model` for these posts, by id (posts without one are missing)."""
        found: dict[int, np.ndarray] = {}
        ids = list(post_ids)
        for start in range(0, len(ids), INSERT_CHUNK):
            records = await self.database.fetch_all(
                sa.select(post_vectors.c.post_id, post_vectors.c.vector).where(
                    post_vectors.c.model == model, post_vectors.c.post_id.in_(ids[start : start + INSERT_CHUNK])
                )
            )
            found.update((int(record[0]), unpack(record[1])) for record in records)
        return found

    async def window_vectors(self, model: str, post_ids: Sequence[int]) -> dict[int, np.ndarray]:
        """The stored vectors of `model` for a few hundred posts at most, by id, in one
        statement built once (posts without one are missing)."""
        if not post_ids:
            return {}
        records = await self.database.fetch_all(self._bound(VECTORS_OF, model=model, post_ids=list(post_ids)))
        return {int(record[0]): unpack(record[1]) for record in records}

    async def post_vector_rows(
        self, widths: Mapping[str, int], post_ids: Sequence[int], blobs: Mapping[str, int] | None = None
    ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Each model's stored vectors of these posts (`widths`: model -> its width) as one
        float32 matrix, a row per post in order, and which rows were found (a row of zeros
        where none of that width is stored, or the post is gone); `blobs` (model -> bytes)
        are read as they are, a uint8 matrix (neighbours). What a cold replica reads for
        every candidate: one record per post with every model's vector, `READ_CHUNK` posts
        a statement, decoded at once."""
        ids = list(post_ids)
        raw = dict(blobs or {})
        models = list(widths) + [model for model in raw if model not in widths]
        position = {post_id: n for n, post_id in enumerate(ids)}
        sizes = [widths[model] * VECTOR_DTYPE.itemsize if model in widths else raw[model] for model in models]
        found: list[tuple[list[int], list[bytes]]] = [([], []) for _ in models]
        kept = [post_vectors.alias(f"v{k}") for k in range(len(models))]
        query = sa.select(posts.c.id, *(v.c.vector for v in kept)).select_from(posts)
        for model, v in zip(models, kept, strict=True):
            query = query.outerjoin(v, sa.and_(v.c.post_id == posts.c.id, v.c.model == model))
        for start in range(0, len(ids), READ_CHUNK):
            records = await self.database.fetch_all(query.where(posts.c.id.in_(ids[start : start + READ_CHUNK])))
            for post_id, *blobs in (tuple(record.values()) for record in records):
                for (where, chosen), blob, size in zip(found, blobs, sizes, strict=True):
                    if blob is not None and len(blob) == size:
                        where.append(position[int(post_id)])
                        chosen.append(blob)
        rows = {}
        for model, size, (where, chosen) in zip(models, sizes, found, strict=True):
            dtype, width = (VECTOR_DTYPE, widths[model]) if model in widths else (np.dtype(np.uint8), size)
            matrix = np.zeros((len(ids), width), dtype=np.float32 if model in widths else np.uint8)
            present = np.zeros(len(ids), dtype=bool)
            if chosen:
                matrix[where] = np.frombuffer(b"".join(chosen), dtype=dtype).reshape(len(chosen), width)
                present[where] = True
            rows[model] = (matrix, present)
        return rows

    async def unlinked_posts(
        self, model: str, needs: Sequence[str], after_id: int, limit: int, part: int = 0, parts: int = 1
    ) -> list[tuple[int, int]]:
        """(id, channel id) of posts after `after_id`, by id, with a vector of every model in
        `needs` and none of `model` (in share `part` of `parts`): the posts whose neighbours
        the stage finds next."""
        query = sa.select(posts.c.id, posts.c.channel_id).where(
            posts.c.id > after_id, posts.c.deleted_at.is_(None), ~sa.exists(_made(model))
        )
        for need in needs:
            query = query.where(sa.exists(_made(need)))
        if parts > 1:
            query = query.where(posts.c.id % parts == part)
        records = await self.database.fetch_all(query.order_by(posts.c.id).limit(limit))
        return [(int(record[0]), int(record[1])) for record in records]

    async def channel_pool(self, channel_id: int, needs: Sequence[str], limit: int) -> list[int]:
        """Ids of the channel's newest `limit` posts (by time) with a vector of every model in
        `needs`, by id: where a post's neighbours are looked for."""
        query = sa.select(posts.c.id).where(posts.c.channel_id == channel_id, posts.c.deleted_at.is_(None))
        for need in needs:
            query = query.where(sa.exists(_made(need)))
        records = await self.database.fetch_all(query.order_by(posts.c.posted_at.desc(), posts.c.id).limit(limit))
        return sorted(int(record[0]) for record in records)

    @writes
    async def forget_post_vectors(self, post_ids: Sequence[int]) -> None:
        """Drop every model's vectors of these posts (their text changed: made again)."""
        if post_ids:
            await self.database.execute(sa.delete(post_vectors).where(post_vectors.c.post_id.in_(list(post_ids))))

    async def embedded_among(self, model: str, post_ids: Sequence[int]) -> set[int]:
        """Which of these posts have a vector of `model`."""
        found: set[int] = set()
        ids = list(post_ids)
        for start in range(0, len(ids), INSERT_CHUNK):
            records = await self.database.fetch_all(
                sa.select(post_vectors.c.post_id).where(
                    post_vectors.c.model == model, post_vectors.c.post_id.in_(ids[start : start + INSERT_CHUNK])
                )
            )
            found.update(int(record[0]) for record in records)
        return found

    async def vectors_made_since(self, model: str, since: datetime, limit: int = 20_000) -> list[int]:
        """Posts whose vector of `model` was made (or made again: the post was edited) after
        `since`, oldest first."""
        query = (
            sa.select(post_vectors.c.post_id)
            .where(post_vectors.c.model == model, post_vectors.c.created_at > since)
            .order_by(post_vectors.c.created_at)
            .limit(limit)
        )
        return [int(record[0]) for record in await self.database.fetch_all(query)]

    @writes
    async def put_text_model(self, documents: int, weights: np.ndarray, components: np.ndarray) -> int:
        """Keep a newly estimated text model; returns its version (newer ones are larger)."""
        return int(await self.database.fetch_val(
            sa.insert(text_models).values(
                documents=documents, weights=pack(weights), components=pack(components), created_at=utcnow()
            ).returning(text_models.c.version)
        ))

    async def text_model_versions(self) -> list[TextModelVersion]:
        """Every kept text model, newest first (without its arrays: a cheap look)."""
        records = await self.database.fetch_all(
            sa.select(text_models.c.version, text_models.c.documents, text_models.c.ready_at)
            .order_by(text_models.c.version.desc())
        )
        return [TextModelVersion(int(r[0]), int(r[1]), r[2] is not None) for r in records]

    async def text_model(self, version: int) -> StoredTextModel | None:
        record = await self.database.fetch_one(
            sa.select(text_models.c.documents, text_models.c.weights, text_models.c.components)
            .where(text_models.c.version == version)
        )
        if record is None:
            return None
        return StoredTextModel(version, int(record[0]), unpack(record[1]), unpack(record[2]))

    @writes
    async def text_model_ready(self, version: int) -> None:
        """Every post has its n-gram row of `version`: replicas may switch to it, and the
        rows and models before it are dropped."""
        async with self.database.transaction():
            await self.database.execute(
                sa.update(text_models).where(text_models.c.version == version).values(ready_at=utcnow())
            )
            older = [
                ngram_model(int(r[0])) for r in await self.database.fetch_all(
                    sa.select(text_models.c.version).where(text_models.c.version < version)
                )
            ]
            if older:
                await self.database.execute(sa.delete(post_vectors).where(post_vectors.c.model.in_(older)))
                for name in older:  # their neighbours too, whatever the encoder
                    linked = f"{NEIGHBOURS}{name.removeprefix(NGRAMS)}:%"
                    await self.database.execute(sa.delete(post_vectors).where(post_vectors.c.model.like(linked)))
            await self.database.execute(sa.delete(text_models).where(text_models.c.version < version))

    async def newest_post_id(self) -> int:
        """The largest post id (0: none): how far the corpus has grown, read off the index."""
        return int(await self.database.fetch_val(sa.select(sa.func.max(posts.c.id))) or 0)


def _made(model: str) -> sa.Select:
    """The outer query's post's vector of `model` (to ask whether it exists)."""
    return sa.select(post_vectors.c.post_id).where(post_vectors.c.post_id == posts.c.id, post_vectors.c.model == model)
