"""CPU seconds spent by each group of a server's processes over a stretch of time.

A server is the process tree under one pid (for `ppb up`: the driver, Ray's daemons, its
workers and actors, HAProxy). Each process goes into a group by its name or command line
(Ray titles its workers `ray::<Actor>...`), so one run says which part used the CPU a
route's requests cost.
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass

try:
    import psutil
except ImportError:  # Ray vendors it; importing ray puts that copy on the path
    import ray  # noqa: F401

    import psutil

GROUPS = (
    ("api", ("ServeReplica:ppb:Api",)),
    ("haproxy-manager", ("HAProxyManager",)),
    ("haproxy", ("haproxy",)),
    ("scorer", ("ServeReplica:ppb:Scorer",)),
    ("serve-control", ("ServeController", "ProxyActor")),
    ("ray-core", ("raylet", "gcs_server", "dashboard", "log_monitor", "monitor.py", "runtime_env", "ray::IDLE",
                  "DashboardAgent", "ray-dashboard", "RuntimeEnvAgent")),
)
"""Group by the first pattern found in a process's name or command line; the server's own
process is `api` when nothing else is (bare uvicorn), else `driver`; PPB's actors are
`part:<class>`, Ray's daemons `ray-core:<pattern>`; any other process is a group named by
its own process name."""
PARTS = ("BotActor", "NudgerActor", "OutboxActor", "PartsKeeper", "UserShardActor", "ChatShardActor", "ScraperActor")


@dataclass
class Sample:
    """Each process's (group, CPU seconds so far), by pid, plus the machine's busy seconds."""

    by_pid: dict[int, tuple[str, float]]
    machine_busy: float


def _group(process: psutil.Process, root: int) -> str:
    try:
        text = process.name() + " " + " ".join(process.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return "gone"
    for group, patterns in GROUPS:
        found = next((pattern for pattern in patterns if pattern in text), None)
        if found is not None:
            return f"ray-core:{found.removeprefix('ray::')}" if group == "ray-core" else group
    for part in PARTS:
        if part in text:
            return f"part:{part}"
    if process.pid == root:
        return "driver"
    return process.name()[:24]  # something unexpected: named by itself


def _busy() -> float:
    times = psutil.cpu_times()
    return float(sum(times) - times.idle - getattr(times, "iowait", 0.0))


def sample(root: int, groups: dict[int, str] | None = None) -> Sample:
    """CPU seconds of every process under `root` (reusing groups already known by pid)."""
    groups = groups or {}
    by_pid: dict[int, tuple[str, float]] = {}
    try:
        top = psutil.Process(root)
        processes = [top, *top.children(recursive=True)]
    except psutil.NoSuchProcess:
        return Sample({}, _busy())
    for process in processes:
        try:
            cpu = process.cpu_times()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        group = groups.get(process.pid) or _group(process, root)
        by_pid[process.pid] = (group, cpu.user + cpu.system)
    if not any(group == "api" for group, _ in by_pid.values()) and root in by_pid:
        by_pid[root] = ("api", by_pid[root][1])  # bare uvicorn: the server is the API
    return Sample(by_pid, _busy())


def spent(before: Sample, after: Sample) -> dict[str, float]:
    """CPU seconds per group between two samples (a process born in between counts from 0);
    `machine` is every CPU's busy time, `others` what no process of the server used."""
    totals: dict[str, float] = defaultdict(float)
    for pid, (group, seconds) in after.by_pid.items():
        totals[group] += seconds - before.by_pid.get(pid, (group, 0.0))[1]
    totals["machine"] = after.machine_busy - before.machine_busy
    return dict(totals)


def children_cpu() -> float:
    """CPU seconds of this process's waited-for children so far (wrk, once it has exited)."""
    usage = os.times()
    return usage.children_user + usage.children_system


def settle(root: int, quiet_cores: float = 0.5, window_s: float = 1.0, timeout_s: float = 90.0) -> float:
    """Wait until the server's processes use under `quiet_cores` CPUs over `window_s` (the
    parts that start after the API answers, e.g. the outbox importing the bot, done), or
    `timeout_s`; returns the seconds waited."""
    import time

    started = time.monotonic()
    known: dict[int, str] = {}
    while time.monotonic() - started < timeout_s:
        before = sample(root, known)
        known = {pid: group for pid, (group, _) in before.by_pid.items()}
        time.sleep(window_s)
        used = spent(before, sample(root, known))
        if sum(seconds for group, seconds in used.items() if group != "machine") < quiet_cores * window_s:
            break
    return time.monotonic() - started
