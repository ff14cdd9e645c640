"""What recording a metric costs: `ppb.metrics.record` inside a Ray worker (Ray's own
metrics, as in every replica and actor) beside the same calls outside Ray (a
prometheus_client registry), for a counter and a histogram with the HTTP middleware's labels.

    python bench/metrics.py [--calls 20000]

Prints the figures side by side, measured in one run; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import ray

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ppb import metrics  # noqa: E402


def per_call_us(calls: int) -> dict[str, float]:
    """Microseconds per call, for what the HTTP middleware records per request."""
    tags = {"method": "GET", "route": "/api/v1/users/{telegram_id}", "status": "200"}
    started = time.perf_counter()
    for _ in range(calls):
        metrics.record("ppb_http_requests_total", **tags)
    counter = (time.perf_counter() - started) / calls * 1e6
    started = time.perf_counter()
    for _ in range(calls):
        metrics.record("ppb_http_request_seconds", 0.003, method="GET", route="/api/v1/users/{telegram_id}")
    histogram = (time.perf_counter() - started) / calls * 1e6
    return {"backend": "ray" if metrics.in_ray_worker() else "prometheus_client",
            "counter_us": counter, "histogram_us": histogram}


@ray.remote(num_cpus=0)
def in_worker(calls: int) -> dict[str, float]:
    per_call_us(calls // 10)  # warm up
    return per_call_us(calls)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=20000)
    args = parser.parse_args()
    ray.init(address="local", num_cpus=1, include_dashboard=False, log_to_driver=False)
    try:
        per_call_us(args.calls // 10)
        local = per_call_us(args.calls)
        remote = ray.get(in_worker.remote(args.calls))
    finally:
        ray.shutdown()
    print(f"{'backend':<20}{'counter µs/call':>18}{'histogram µs/call':>20}")
    for row in (local, remote):
        print(f"{row['backend']:<20}{row['counter_us']:>18.2f}{row['histogram_us']:>20.2f}")
    print(f"ray / prometheus_client: counter {remote['counter_us'] / local['counter_us']:.1f}x, "
          f"histogram {remote['histogram_us'] / local['histogram_us']:.1f}x")


if __name__ == "__main__":
    main()
