"""`embedder-<k>`: the embedding stage on Ray, `PPB_EMBEDDERS` actors each embedding its share
of the posts (`ppb.core.embedding`). Ray restarting one loses nothing: the posts without a
vector are its work list, kept in the store."""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

import ray

from ppb.actors.named import kill_named, named_actor
from ppb.config import Settings

log = logging.getLogger("ppb.embedder")
PREFIX = "embedder-"


@ray.remote(max_restarts=-1)
class EmbedderActor:
    def __init__(self, settings: Settings, part: int, parts: int, build: Any) -> None:
        self._embedder: Any = None
        self._task = asyncio.get_event_loop().create_task(self._run(settings, part, parts, build))

    async def _run(self, settings: Settings, part: int, parts: int, build: Any) -> None:
        from ppb.ranking.threads import limit_blas_threads

        limit_blas_threads(1)
        while self._embedder is None:
            try:
                self._embedder = await build(settings, part, parts)
            except Exception:  # the database away: try again shortly
                log.exception("embedder %d could not start", part)
                await asyncio.sleep(2.0)
        await self._embedder.run()

    async def start(self) -> bool:
        return True

    async def wake(self) -> None:
        if self._embedder is not None:
            self._embedder.wake()

    async def stats(self) -> dict[str, Any]:
        embedder = self._embedder
        if embedder is None:
            return {"ready": False, "pid": os.getpid()}
        return {"ready": True, "pid": os.getpid(), "model": embedder.model, "embedded": embedder.embedded,
                "waiting": await embedder.backlog()}


def start_embedders(settings: Settings, build: Any) -> list[Any]:
    """Create (or find) the `embedder-<k>` actors; `build(settings, part, parts)` makes
    each one's `Embedder` inside it (the composition root's, passed in)."""
    if settings.embeddings == "off":
        return []
    handles = [
        named_actor(EmbedderActor, f"{PREFIX}{part}", settings, part, settings.embedders, build,
                    num_cpus=settings.embedder_cpus)
        for part in range(settings.embedders)
    ]
    ray.get([handle.start.remote() for handle in handles], timeout=120)
    return handles


def stop_embedders(settings: Settings) -> None:
    for name in [a["name"] for a in ray.util.list_named_actors(all_namespaces=True)
                 if a["namespace"] == settings.ray_namespace and a["name"].startswith(PREFIX)]:
        kill_named(name, settings)
