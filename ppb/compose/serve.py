"""The Serve application: deployment `Api` wrapping the Starlette app, built per replica,
and deployment `Scorer`, which ranks for it (autoscaled, concurrent requests ranked together).
`serve deploy` and KubeRay configs reach `app_builder` by the path they have always named,
`ppb.http.serve:app_builder`."""

from __future__ import annotations

import asyncio
from typing import Any

from ray import serve
from ray.serve.handle import DeploymentHandle
from starlette.types import ASGIApp

from ppb import metrics
from ppb.compose.names import SCORER
from ppb.compose.serve_http import serve_http_bind
from ppb.config import Settings, load_settings, rebind


@serve.deployment(name="Api", max_ongoing_requests=256, health_check_period_s=5)
@serve.ingress()
class Api:
    """REST API, Mini App and webhook ingress; stateless, so replicas scale freely."""

    def __init__(self, settings: Settings, scorer: DeploymentHandle | None = None) -> None:
        from ppb.actors.parts import ensure_parts
        from ppb.compose.parts import PARTS

        self._settings = settings
        self._scorer = scorer
        # Whichever replica starts first makes sure the bot, the nudger, the scraper session
        # and the shards exist (by name, so never twice): `serve deploy` runs the whole product.
        ensure_parts(settings, serve.get_replica_context().app_name, PARTS)

    def __serve_build_asgi_app__(self) -> ASGIApp:
        from ppb.compose.core import build_services
        from ppb.compose.web import http_app

        services = build_services(self._settings, actors=True, scorer=self._scorer)
        return http_app(self._settings, services, actors=True, settle=True)  # type: ignore[no-any-return]


@serve.deployment(name=SCORER, max_ongoing_requests=64, health_check_period_s=10)
class Scorer:
    """Per-user ranking. Each replica caches models and post vectors and rebuilds them from
    the store on a miss, so any replica serves any user and replicas come and go freely."""

    def __init__(self, settings: Settings) -> None:
        from ppb.compose.ranking import scoring  # a Scorer replica imports what ranking needs, no more
        from ppb.compose.store import open_store

        self._store = open_store(settings)
        self._scoring = scoring(settings, self._store)  # this replica ranks in process
        self._connecting: asyncio.Future[None] | None = None

    async def _ready(self) -> None:
        """Connect to the store on first use (again after a failed attempt)."""
        failed = self._connecting is not None and self._connecting.done() and (
            self._connecting.cancelled() or self._connecting.exception() is not None
        )
        if self._connecting is None or failed:
            self._connecting = asyncio.ensure_future(self._store.connect())
        await asyncio.shield(self._connecting)

    async def best(self, request: tuple[int, int, dict[str, Any] | None]) -> Any:
        """Ranked posts for (user id, limit, variant), or the exception that stopped them.

        Requests arriving while a ranking runs are ranked together next (`Scoring.best`),
        not in Serve's batch window: that forms the next batch during the current one from
        what came within the window, and under load left most batches at one user."""
        await self._ready()
        metrics.record("ppb_feed_pages_total", 1.0)
        try:
            return await self._scoring.best(*request)
        except Exception as error:  # the caller's client raises it (`ScorerClient.best`)
            return error

    async def explain(self, user_id: int, post_id: int, variant: dict[str, Any] | None) -> Any:
        """Why the post ranks where it does for the user (`Scoring.explain`), or the exception."""
        await self._ready()
        try:
            return await self._scoring.explain(user_id, post_id, variant)
        except Exception as error:  # the caller's client raises it (`ScorerClient.explain`)
            return error

    async def best_batch(self, requests: list[tuple[int, int, dict[str, Any] | None]]) -> list[Any]:
        """Many users ranked in one call (a nudger pass): inputs read once for all of them."""
        await self._ready()
        return await self._scoring.best_many(requests)

    async def train(self, user_id: int) -> tuple[int, float]:
        await self._ready()
        try:
            used, seconds = await self._scoring.train(user_id)
        except Exception:
            metrics.record("ppb_trainings_total", outcome="failed")
            raise
        metrics.record("ppb_trainings_total", outcome="done")
        metrics.record("ppb_training_seconds", seconds)
        return used, seconds

    async def score_arrivals(self, user_ids: list[int], post_ids: list[int]) -> Any:
        """New posts for their channels' followers, one call per arrival (not per user)."""
        await self._ready()
        return await self._scoring.score_arrivals(user_ids, post_ids)

    async def stats(self) -> dict[str, int]:
        return self._scoring.stats()


def build_application(settings: Settings) -> serve.Application:
    """The bound graph `ppb up` runs."""
    scorer = Scorer.options(
        autoscaling_config={
            "min_replicas": 1,
            "max_replicas": settings.scorer_max_replicas,
            "target_ongoing_requests": 8,
        },
        ray_actor_options={"num_cpus": settings.scorer_cpus},
    ).bind(settings)
    return Api.options(num_replicas=settings.api_replicas, logging_config=api_logging(settings)).bind(settings, scorer)


def api_logging(settings: Settings) -> dict[str, Any]:
    """The Api replicas' Serve logging: no access log line per request unless asked for
    (PPB's own metrics count every request; the line cost about 6% of the replica's CPU).
    Without it the replica's Serve logger keeps warnings only, so the per-request
    `logger.info` returns before building a record."""
    if settings.serve_access_log:
        return {"enable_access_log": True}
    return {"enable_access_log": False, "log_level": "WARNING"}


def app_builder(args: dict[str, Any]) -> serve.Application:
    """Entry for `serve deploy` / KubeRay configs: settings from the environment, checked
    against the host the config's `http_options` really bind (an API key off loopback)."""
    host, port = serve_http_bind()
    return build_application(rebind(load_settings(**args), host, port))

