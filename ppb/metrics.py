"""The application's metrics, one view over every replica, actor and node.

Inside Ray (the Api and Scorer replicas, the bot, nudger, scraper and shard actors) every
metric is one of Ray's own (`ray.util.metrics`): each node's metrics agent exports it in
Prometheus format as `ray_<name>`, one series per process, which is what Ray's dashboards
and KubeRay's ServiceMonitor scrape (`sum by (...)` gives the whole application). `/metrics`
answers the same figures already summed over the processes of every node (`cluster_text`),
so it says the same whichever replica the load balancer picked.

Outside Ray (`ppb api --bare`, tests in one process) the same calls count in a
prometheus_client registry of the process, which `/metrics` then renders.
"""

from __future__ import annotations

import asyncio
import functools
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
PER_PROCESS_LABELS = frozenset({
    "Component", "NodeAddress", "SessionName", "Version", "WorkerId", "JobId",
    "otel_scope_name", "otel_scope_schema_url", "otel_scope_version",
})
"""Labels Ray's agent adds to tell processes apart; `/metrics` sums over them."""
RAY_PREFIX = "ray_"
SCRAPE_TIMEOUT_S = 3.0


@dataclass(frozen=True, slots=True)
class Definition:
    kind: str  # counter | histogram | gauge
    description: str
    tags: tuple[str, ...] = ()


METRICS: dict[str, Definition] = {
    "ppb_http_requests_total": Definition("counter", "HTTP requests answered", ("method", "route", "status")),
    "ppb_http_request_seconds": Definition("histogram", "Time to answer an HTTP request", ("method", "route")),
    "ppb_ratings_total": Definition("counter", "Ratings stored (API, bot, Mini App, nudges)", ("kind",)),
    "ppb_trainings_total": Definition("counter", "Model trainings run", ("outcome",)),
    "ppb_training_seconds": Definition("histogram", "Time to train a user's model"),
    "ppb_feed_pages_total": Definition("counter", "Ranked feed pages served", ()),
    "ppb_nudger_passes_total": Definition("counter", "Retention passes run", ()),
    "ppb_nudges_total": Definition("counter", "What retention passes did, by outcome", ("outcome",)),
    "ppb_bot_updates_total": Definition("counter", "Bot updates handled", ("type",)),
    "ppb_bot_update_seconds": Definition("histogram", "Time to handle a bot update", ("type",)),
    "ppb_scraper_jobs_total": Definition("counter", "Scraper jobs run", ("kind", "outcome")),
    "ppb_scraper_flood_waits_total": Definition("counter", "FloodWaits the scraper waited out", ()),
    "ppb_scraper_queue": Definition("gauge", "Scraper jobs waiting", ("session",)),
    "ppb_scraper_logged_in": Definition("gauge", "1 while Telegram accepts the scraper's session, 0 once it does not", ("session",)),
    "ppb_scraper_post_changes_total": Definition("counter", "Stored posts changed on Telegram after they were read", ("kind",)),
    "ppb_shard_activations_total": Definition("counter", "Keys activated in a shard", ("kind",)),
    "ppb_outbox_messages_total": Definition(
        "counter", "Outbox messages (push, digest, nudge, mark): queued, then sent, retried or failed", ("kind", "outcome")),
    "ppb_outbox_flood_waits_total": Definition("counter", "429s that paused the outbox's whole queue", ()),
    "ppb_outbox_paused_seconds_total": Definition("counter", "Seconds of retry_after the outbox's queue was paused for", ()),
}


_worker = False
"""Once this process is known to be a Ray worker it stays one: not asked again per metric."""


def in_ray_worker() -> bool:
    """Whether this process is one of Ray's workers (a replica or an actor), whose metrics
    Ray's agent exports; a driver (`ppb up`, a test) counts in its own registry. A process
    that never imported Ray is no worker (and importing it here, on a hot path, would cost
    a second and a hundred MB in a process that does not use it)."""
    global _worker
    if _worker:
        return True
    if "ray" not in sys.modules:
        return False
    import ray
    from ray._private.worker import WORKER_MODE, global_worker

    _worker = ray.is_initialized() and global_worker.mode == WORKER_MODE
    return _worker


class _Local:
    """The prometheus_client registry of a process outside Ray."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry()
        self.metrics: dict[str, Any] = {}
        self.labelled: dict[tuple[str, tuple[tuple[str, str], ...]], Any] = {}
        """Each metric's series by its tags, looked up once (prometheus_client checks and
        copies the labels on every `labels()` call)."""
        for name, spec in METRICS.items():
            if spec.kind == "counter":
                metric: Any = Counter(name, spec.description, spec.tags, registry=self.registry)
            elif spec.kind == "histogram":
                metric = Histogram(name, spec.description, spec.tags, registry=self.registry, buckets=LATENCY_BUCKETS)
            else:
                metric = Gauge(name, spec.description, spec.tags, registry=self.registry)
            self.metrics[name] = metric

    def record(self, name: str, value: float, tags: Mapping[str, str]) -> None:
        metric = self.metrics[name]
        if tags:
            key = (name, tuple(tags.items()))
            series = self.labelled.get(key)
            if series is None:
                series = self.labelled[key] = metric.labels(**tags)
            metric = series
        kind = METRICS[name].kind
        if kind == "counter":
            metric.inc(value)
        elif kind == "histogram":
            metric.observe(value)
        else:
            metric.set(value)


class _Ray:
    """Ray's metrics, created on first use in this worker."""

    def __init__(self) -> None:
        self.metrics: dict[str, Any] = {}

    def _metric(self, name: str) -> Any:
        metric = self.metrics.get(name)
        if metric is None:
            from ray.util import metrics

            spec = METRICS[name]
            if spec.kind == "counter":
                metric = metrics.Counter(name, spec.description, tag_keys=spec.tags)
            elif spec.kind == "histogram":
                metric = metrics.Histogram(name, spec.description, boundaries=list(LATENCY_BUCKETS), tag_keys=spec.tags)
            else:
                metric = metrics.Gauge(name, spec.description, tag_keys=spec.tags)
            self.metrics[name] = metric
        return metric

    def record(self, name: str, value: float, tags: Mapping[str, str]) -> None:
        metric = self._metric(name)
        kind = METRICS[name].kind
        tags = dict(tags) or None
        if kind == "counter":
            metric.inc(value, tags=tags)
        elif kind == "histogram":
            metric.observe(value, tags=tags)
        else:
            metric.set(value, tags=tags)


@functools.cache
def _local() -> _Local:
    return _Local()


@functools.cache
def _ray() -> _Ray:
    return _Ray()


def record(name: str, value: float = 1.0, **tags: str) -> None:
    """Count, observe or set `name` (one of METRICS) with these tags. Never raises: a metric
    that cannot be recorded must not fail the request it describes."""
    try:
        (_ray() if in_ray_worker() else _local()).record(name, value, tags)
    except Exception:  # pragma: no cover - a metrics backend hiccup
        import logging

        logging.getLogger("ppb.metrics").debug("metric %s not recorded", name, exc_info=True)


def record_pass(report: Mapping[str, int]) -> None:
    """A retention pass and what it did (`PassReport` as a dict)."""
    record("ppb_nudger_passes_total")
    for outcome, count in report.items():
        if count:
            record("ppb_nudges_total", float(count), outcome=outcome)


def local_text() -> bytes:
    from prometheus_client import generate_latest

    return generate_latest(_local().registry)


# The whole application's view ------------------------------------------------------------


def summed(texts: Iterable[str]) -> str:
    """Prometheus texts of Ray's agents -> PPB's series summed over processes and nodes,
    named without Ray's prefix, in Prometheus text format."""
    from prometheus_client.parser import text_string_to_metric_families

    families: dict[str, tuple[str, str, dict[tuple[str, tuple[tuple[str, str], ...]], float]]] = {}
    for text in texts:
        for family in text_string_to_metric_families(text):
            if not family.name.startswith(RAY_PREFIX + "ppb_"):
                continue
            name = family.name.removeprefix(RAY_PREFIX)
            _, _, samples = families.setdefault(name, (family.type, family.documentation, {}))
            for sample in family.samples:
                labels = tuple(sorted((k, v) for k, v in sample.labels.items() if k not in PER_PROCESS_LABELS))
                key = (sample.name.removeprefix(RAY_PREFIX), labels)
                samples[key] = samples.get(key, 0.0) + sample.value
    lines: list[str] = []
    for name in sorted(families):
        kind, documentation, samples = families[name]
        lines.append(f"# HELP {name} {documentation}")
        lines.append(f"# TYPE {name} {kind}")
        for (sample_name, labels), value in sorted(samples.items(), key=lambda item: _sample_order(*item[0])):
            rendered = ",".join(f'{k}="{_escape(v)}"' for k, v in labels)
            lines.append(f"{sample_name}{{{rendered}}} {value!r}" if rendered else f"{sample_name} {value!r}")
    return "\n".join(lines) + "\n"


HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def _sample_order(sample_name: str, labels: tuple[tuple[str, str], ...]) -> tuple[object, ...]:
    """The text format's order: a series' samples together, a histogram's buckets in
    increasing `le` (`+Inf` last, not first as text sorts it), then its sum and count."""
    le = dict(labels).get("le")
    series = tuple(item for item in labels if item[0] != "le")
    kind = next((rank for rank, suffix in enumerate(HISTOGRAM_SUFFIXES) if sample_name.endswith(suffix)), len(HISTOGRAM_SUFFIXES))
    return (series, kind, _bound(le), sample_name)


def _bound(le: str | None) -> float:
    try:
        return float(le) if le is not None else 0.0
    except ValueError:
        return float("inf")


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def metrics_targets() -> list[str]:
    """Every alive node's metrics agent (`host:port`), as Prometheus would scrape them."""
    import ray

    return [
        f"{node['NodeManagerAddress']}:{node['MetricsExportPort']}"
        for node in ray.nodes()
        if node.get("Alive") and node.get("MetricsExportPort")
    ]


async def cluster_text() -> str:
    """PPB's metrics from every node's agent, summed (an agent not answering is left out)."""
    import httpx

    targets = await asyncio.to_thread(metrics_targets)
    async with httpx.AsyncClient(timeout=SCRAPE_TIMEOUT_S) as client:

        async def scrape(target: str) -> str:
            try:
                response = await client.get(f"http://{target}/metrics")
            except httpx.HTTPError:
                return ""
            return response.text if response.status_code == 200 else ""

        texts = await asyncio.gather(*(scrape(target) for target in targets))
    return summed(texts)
