"""Metrics: one view over processes (what `/metrics` answers under Ray), and this process's
own registry outside Ray."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from ppb import metrics
from ppb.status import render

AGENT_A = """# HELP ray_ppb_http_requests_total HTTP requests answered
# TYPE ray_ppb_http_requests_total counter
ray_ppb_http_requests_total{Component="core_worker",NodeAddress="10.0.0.1",SessionName="s",Version="2.60.0",WorkerId="a1",method="GET",route="/healthz",status="200"} 3.0
ray_ppb_http_requests_total{Component="core_worker",NodeAddress="10.0.0.1",SessionName="s",Version="2.60.0",WorkerId="a2",method="GET",route="/healthz",status="200"} 4.0
ray_ppb_http_requests_total{Component="core_worker",NodeAddress="10.0.0.1",SessionName="s",Version="2.60.0",WorkerId="a2",method="POST",route="/api/v1/users/",status="201"} 1.0
# HELP ray_tasks Ray's own
# TYPE ray_tasks gauge
ray_tasks{State="RUNNING"} 2.0
"""
AGENT_B = """# HELP ray_ppb_http_requests_total HTTP requests answered
# TYPE ray_ppb_http_requests_total counter
ray_ppb_http_requests_total{Component="core_worker",NodeAddress="10.0.0.2",SessionName="s",Version="2.60.0",WorkerId="b1",method="GET",route="/healthz",status="200"} 5.0
# HELP ray_ppb_training_seconds Time to train a user's model
# TYPE ray_ppb_training_seconds histogram
ray_ppb_training_seconds_bucket{WorkerId="b1",le="0.5"} 1.0
ray_ppb_training_seconds_bucket{WorkerId="b1",le="+Inf"} 2.0
ray_ppb_training_seconds_count{WorkerId="b1"} 2.0
ray_ppb_training_seconds_sum{WorkerId="b1"} 1.25
"""


def samples(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text) for s in family.samples
    }


def test_series_are_summed_over_processes_and_nodes_and_named_without_rays_prefix() -> None:
    got = samples(metrics.summed([AGENT_A, AGENT_B, ""]))
    get = (("method", "GET"), ("route", "/healthz"), ("status", "200"))
    assert got[("ppb_http_requests_total", get)] == 12.0
    assert got[("ppb_http_requests_total", (("method", "POST"), ("route", "/api/v1/users/"), ("status", "201")))] == 1.0
    assert got[("ppb_training_seconds_bucket", (("le", "+Inf"),))] == 2.0
    assert got[("ppb_training_seconds_sum", ())] == 1.25
    assert not [name for name, _ in got if not name.startswith("ppb_")]  # Ray's own are left to Ray


def ray_agent_histogram(worker: str) -> str:
    """What a Ray agent exports for one process: two routes' latency histograms, buckets in
    increasing `le` per series, as Ray writes them."""
    lines = ["# HELP ray_ppb_http_request_seconds Time to answer an HTTP request",
             "# TYPE ray_ppb_http_request_seconds histogram"]
    for route in ("/healthz", "/api/v1/posts/best"):
        labels = f'WorkerId="{worker}",method="GET",route="{route}"'
        for index, bound in enumerate([*metrics.LATENCY_BUCKETS, "+Inf"]):
            lines.append(f'ray_ppb_http_request_seconds_bucket{{{labels},le="{bound}"}} {float(index)}')
        lines += [f"ray_ppb_http_request_seconds_count{{{labels}}} 14.0",
                  f"ray_ppb_http_request_seconds_sum{{{labels}}} 0.5"]
    return "\n".join(lines) + "\n"


def histogram_order_problems(text: str) -> list[str]:
    """Where a page breaks the text format's order for histograms: each series' samples
    together, its buckets in increasing `le` ending with `+Inf`, then its sum and count."""
    problems = []
    for family in text_string_to_metric_families(text):
        if family.type != "histogram":
            continue
        seen: list[tuple] = []
        bounds: dict[tuple, list[float]] = {}
        for sample in family.samples:
            series = tuple(sorted((k, v) for k, v in sample.labels.items() if k != "le"))
            if seen and seen[-1] != series and series in seen:
                problems.append(f"{family.name}{dict(series)}: its samples are not together")
            if not seen or seen[-1] != series:
                seen.append(series)
            if sample.name.endswith("_bucket"):
                if series in bounds and bounds[series][-1] == float("inf"):
                    problems.append(f"{family.name}{dict(series)}: a bucket after le=+Inf")
                bounds.setdefault(series, []).append(float(sample.labels["le"]))
            elif series not in bounds:
                problems.append(f"{family.name}{dict(series)}: {sample.name} before its buckets")
        for series, les in bounds.items():
            if les != sorted(les) or len(set(les)) != len(les) or les[-1] != float("inf"):
                problems.append(f"{family.name}{dict(series)}: le in the order {les}")
    return problems


def test_histogram_buckets_are_in_increasing_le_as_the_text_format_requires() -> None:
    page = metrics.summed([ray_agent_histogram("a1"), AGENT_B, ray_agent_histogram("b1")])
    assert histogram_order_problems(page) == []
    got = samples(page)
    healthz = (("method", "GET"), ("route", "/healthz"))
    assert got[("ppb_http_request_seconds_bucket", (("le", "+Inf"), *healthz))] == 2 * len(metrics.LATENCY_BUCKETS)
    assert got[("ppb_http_request_seconds_count", healthz)] == 28.0
    assert histogram_order_problems(metrics.local_text().decode()) == []  # prometheus_client's own page


def test_outside_ray_the_process_counts_in_its_own_registry() -> None:
    before = samples(metrics.local_text().decode()).get(("ppb_ratings_total", (("kind", "skip"),)), 0.0)
    metrics.record("ppb_ratings_total", kind="skip")
    metrics.record("ppb_nudges_total", 2, outcome="nudged")
    got = samples(metrics.local_text().decode())
    assert got[("ppb_ratings_total", (("kind", "skip"),))] == before + 1


async def test_the_app_counts_requests_by_route_template(api: httpx.AsyncClient) -> None:
    def healthz(text: str) -> float:
        return samples(text).get(
            ("ppb_http_requests_total", (("method", "GET"), ("route", "/healthz"), ("status", "200"))), 0.0
        )

    before = healthz((await api.get("/metrics")).text)
    for _ in range(3):
        assert (await api.get("/healthz")).status_code == 200
    assert healthz((await api.get("/metrics")).text) == before + 3


def test_status_renders_every_part() -> None:
    status = {
        "applications": {"ppb": {"status": "RUNNING", "deployments": {
            "Api": {"status": "HEALTHY", "replicas": {"RUNNING": 2}},
            "Scorer": {"status": "HEALTHY", "replicas": {"RUNNING": 1}},
        }}},
        "parts": {"bot_mode": "polling", "user_shards": 2, "chat_shards": 1},
        "bot": {"mode": "polling", "polling": True},
        "nudger": {"running": True, "interval_s": 300.0, "last_pass": {"at": 1000.0, "report": {"nudged": 2, "churned": 0}}},
        "scraper": None,
        "shards": {
            "users": [{"index": 0, "active": 3, "node": "abcdef0123456789"}, {"index": 1, "missing": True}],
            "chats": [{"index": 0, "error": "GetTimeoutError"}],
        },
        "metrics": [{"url": "http://127.0.0.1:8000/metrics", "what": "the application, summed", "answers": True},
                    {"url": "http://10.0.0.1:8080/metrics", "what": "Ray's agent, per process", "answers": False}],
        "metrics_targets": ["10.0.0.1:8080"],
    }
    assert render(status, now=1012.0).splitlines() == [
        "application ppb: RUNNING",
        "  Api: HEALTHY, 2 replicas (RUNNING 2)",
        "  Scorer: HEALTHY, 1 replica (RUNNING 1)",
        "bot: polling (polling now)",
        "nudger: every 300 s; last pass 12 s ago: nudged 2, churned 0",
        "scraper: none (no TELETHON_SESSION)",
        "users shards (2): users-0: 3 keys on node abcdef01; users-1: missing",
        "chats shards (1): chats-0: not answering",
        "metrics: http://127.0.0.1:8000/metrics (the application, summed); "
        "http://10.0.0.1:8080/metrics (Ray's agent, per process; not answering from here)",
    ]


def test_the_grafana_dashboard_charts_only_metrics_the_application_records() -> None:
    import json
    import re

    from tests.conftest import repo_root

    dashboard = json.loads((repo_root() / "deploy" / "grafana-dashboard.json").read_text())
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    charted = {re.sub(r"_(bucket|sum|count)$", "", name) for expr in exprs for name in re.findall(r"ray_(ppb_\w+)", expr)}
    assert charted == set(metrics.METRICS)  # every metric charted, none that does not exist


def test_status_says_when_the_scraper_session_is_gone() -> None:
    from ppb.scraper.session import LOGGED_OUT

    problem = LOGGED_OUT.format(reason="AUTH_KEY_UNREGISTERED")
    base = {"applications": {}, "parts": None, "bot": {"mode": None, "polling": False}, "nudger": None,
            "shards": {}, "metrics": [], "metrics_targets": []}
    working = {"name": "0123abcd4567", "started": True, "watched": 3, "queued": 0, "flood_wait": 0, "problem": None}
    lines = render({**base, "scraper": working}, now=0.0).splitlines()
    assert "scraper 0123abcd4567: started, 3 watched, 0 queued, flood wait 0 s" in lines
    gone = {**working, "started": False, "problem": problem}
    lines = render({**base, "scraper": gone}, now=0.0).splitlines()
    assert f"scraper 0123abcd4567: NOT WORKING: {problem}" in lines
    assert "ppb telegram-login" in problem and "AUTH_KEY_UNREGISTERED" in problem
