"""A cold Scorer replica's first feed, side by side: rows read from the store (what the
embedding stage made once, each post's neighbours too) against a replica that finds the
neighbours itself (as before the stage kept them) and rows made in the replica (the text
model estimated and every candidate vectorized there, as before the stage kept rows). Also
the stage's n-gram rows per second on one core (neighbours included).

Posts are real text (Debian package descriptions, `bench/data/`), 10k and 100k of them in
four channels that one person follows (100 ratings); a person's candidates are their
channels' newest 10k posts. The sentence vectors are random stand-ins of the default model's
width: a replica's cost is reading them, the same whatever they mean (making them is the
stage's cost, measured in `bench/ingest.py`). numpy's BLAS gets one thread, as in a replica.

    python bench/cold_replica.py [--sizes 10000 100000] [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ranking import LIKED, real_posts  # noqa: E402
from ppb.config import load_settings  # noqa: E402
from ppb.core.embedding import Embedder  # noqa: E402
from ppb.core.scoring import Scoring  # noqa: E402
from ppb.domain.interactions import InteractionType  # noqa: E402
from ppb.ranking import load_encoder  # noqa: E402
from ppb.ranking.hold import KNOWN_SHARE  # noqa: E402
from ppb.ranking.threads import limit_blas_threads  # noqa: E402
from ppb.store.migrate import upgrade  # noqa: E402
from ppb.store.queries import NewPost, Store  # noqa: E402

RATINGS = 100
USER = 515151


class StandInEncoder:
    """Random vectors at a known language's share, named and sized as the default model's (see
    the module's docstring)."""

    def __init__(self) -> None:
        real = load_encoder("use")
        assert real is not None
        self.name, self.dimensions = real.name, real.dimensions
        self._rng = np.random.default_rng(0)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self._rng.standard_normal((len(texts), self.dimensions)).astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True) * np.float32(KNOWN_SHARE)


class WithoutTextModels:
    """The store as a replica saw it before the stage kept text models and n-gram rows."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def text_model_versions(self) -> list[Any]:
        return []


class WithoutStoredNeighbours:
    """The store as a replica saw it before the stage kept each post's neighbours: the
    replica finds them itself."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def post_vector_rows(self, widths: Any, post_ids: Sequence[int], blobs: Any = None) -> Any:
        return await self._store.post_vector_rows(widths, post_ids)


async def seed(store: Store, size: int) -> int:
    """`size` posts in four channels, one person following them who rated `RATINGS`."""
    posts = real_posts(size)
    now = datetime.now(UTC)
    channel_ids, ids, sections = [], [], []
    for channel in range(4):
        row = await store.upsert_channel(-100_888_000 - channel, f"coldbench{channel}", f"Cold {channel}")
        channel_ids.append(int(row["id"]))
        mine = posts[channel::4]
        for start in range(0, len(mine), 5000):
            chunk = mine[start : start + 5000]
            _, made = await store.add_posts(int(row["id"]), [
                NewPost(start + n + 1, text, "text", now - timedelta(minutes=start + n))
                for n, (text, _) in enumerate(chunk)
            ])
            ids += made
            sections += [section for _, section in chunk]
    user, _ = await store.upsert_user(USER, "cold", "Cold", None)
    await store.link_channels(int(user["id"]), channel_ids, for_training=True)
    for index in random.Random(1).sample(range(len(ids)), RATINGS):
        kind = InteractionType.LIKE if sections[index] in LIKED else InteractionType.DISLIKE
        await store.rate(USER, ids[index], kind)
    return int(user["id"])


async def first_feed(store: Any, user_id: int) -> tuple[float, float, int, list[int]]:
    """Seconds to a cold replica's first page (wall, and CPU of the whole process: steadier
    on a shared machine), how many posts it was chosen from, and the page."""
    scoring = Scoring(store)
    started, cpu = time.perf_counter(), time.process_time()
    page = await scoring.best(user_id, 10)
    assert len(page) == 10
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    return wall, cpu, scoring.stats()["posts"], [row["id"] for row, _ in page]


async def measure(size: int, database_url: str | None) -> dict[str, float]:
    url = database_url or f"sqlite:///{tempfile.mkdtemp(prefix='ppb-cold-')}/ppb.db"
    settings = load_settings(DATABASE_URL=url)
    await asyncio.to_thread(upgrade, settings.async_database_url)
    store = Store(settings.async_database_url)
    await store.connect()
    try:
        user_id = await seed(store, size)
        stage = Embedder(store, StandInEncoder(), batch=512)
        started = time.perf_counter()
        await stage.catch_up()
        stage_s = time.perf_counter() - started
        stored_s, stored_cpu, posts, page = await first_feed(store, user_id)
        linking_s, linking_cpu, _, linked_page = await first_feed(WithoutStoredNeighbours(store), user_id)
        made_s, _, _, _ = await first_feed(WithoutTextModels(store), user_id)
        return {"posts": posts, "stored": stored_s, "stored_cpu": stored_cpu, "linking": linking_s,
                "linking_cpu": linking_cpu, "same": page == linked_page, "made": made_s,
                "ngram_rate": stage.ngram_rows / stage_s}
    finally:
        await store.disconnect()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--database-url", default=None, help="an empty database (default: a fresh SQLite file)")
    args = parser.parse_args()
    limit_blas_threads(1)  # as in a Scorer replica (PPB_SCORER_BLAS_THREADS)
    print("first feed of a cold Scorer replica, seconds")
    print("(CPU: the process's CPU seconds; 'linked here': neighbours found in the replica, the")
    print(" stored ones ignored, run second; 'same page': both replicas chose the same 10 posts)")
    print(f"{'posts':>8}{'rows stored':>13}{'(CPU)':>8}{'linked here':>13}{'(CPU)':>8}{'same page':>11}"
          f"{'rows made here':>16}{'ratio':>8}{'stage rows/s':>14}")
    for size in args.sizes:
        result = await measure(size, args.database_url)
        print(f"{result['posts']:>8,}{result['stored']:13.2f}{result['stored_cpu']:8.2f}{result['linking']:13.2f}"
              f"{result['linking_cpu']:8.2f}{'yes' if result['same'] else 'NO':>11}{result['made']:16.2f}"
              f"{result['made'] / result['stored']:7.1f}x{result['ngram_rate']:14,.0f}")


if __name__ == "__main__":
    asyncio.run(main())
