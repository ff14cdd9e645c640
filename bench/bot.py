"""The bot end to end through the sandbox's Bot API emulator: updates/s, p50 and p99 per
update, and the CPU each process spends per update, for each way the bot runs, side by
side in one run.

    python bench/bot.py [--persons 40] [--duration 10] [--rounds 1] [--scenario training|menu]
                        [--modes polling,webhook,rest,shards] [--before DIR] [--rate R]
                        [--trace N] [--profile DIR]

Every part runs in a process of its own (`bench/bot_parts.py`): the emulator (Telegram's
stand-in, the bot's `BOT_API_BASE`), PPB's HTTP app (SQLite in a temporary directory), the
polling bot, and the persons (`bench/bot_persons.py`, aiohttp: the load generator never
shares a process with what it measures). Modes: `polling` (the bot calls the core in its
own process, as the `bot` actor does), `webhook` (the bot inside the app's process, as in
an Api replica), `rest` (the polling bot calling the REST API with `HttpPpb`, as a bot away
from PPB's processes), `shards` (polling, with the user and chat shards as actors in a Ray
the bot's process starts, as under `ppb up`; that part's CPU counts all of Ray's processes,
and is also shown apart: the bot's own process, the chat shards, the user shards, the rest),
`up` (the real `ppb up` in a process group of its own, on free ports with its own SQLite
file and Ray, the bot actor polling the emulator: Serve, HAProxy, the Api and Scorer
replicas, the shards, nudger, outbox and embedders as the operator runs them; its CPU is
every process carrying the run's mark in its environment, also shown by role, and `up:
idle` is what those processes used between updates once up, over as long as the run; it is
stopped with Ctrl+C to its group, what is left of it ended by pid).
With `--before DIR` (e.g. a `git archive` of main) every mode also runs DIR's `ppb`, the
runs interleaved round by round so a drifting load weighs on both alike.

Each person sends /start; `training` then presses "Start training", rates every card (👍
and 👎 in turn) until the model is fitted, then switches the language (a write) back and
forth; `menu` taps "How it works" and back. Persons tap as fast as answers come (closed
loop: updates/s), or with `--rate` at a fixed offered load (open loop: latency from each
tap's scheduled time). The flood guard is set out of their way. Prints one table; asserts
nothing about time.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import queue
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
API_KEY = "bench-bot-key-0123456789"
TOKEN = "123456789:AAbenchBENCHbenchBENCHbenchBENCHben"
FIRST_ID = 5_000_000_001
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User and system CPU of a process so far (all its threads); 0 for one that is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def process_tree() -> dict[int, list[int]]:
    """Each process's children."""
    children: dict[int, list[int]] = collections.defaultdict(list)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children[parent].append(int(entry.name))
    return children


UP_ROLES = (("BotActor", "bot actor"), ("ChatShardActor", "chats-<k>"), ("UserShardActor", "users-<k>"),
            ("ServeReplica:ppb:Api", "Api"), ("ServeReplica:ppb:Scorer", "Scorer"), ("haproxy", "haproxy"))


def ray_role(pid: int, roles: tuple[tuple[str, str], ...] = UP_ROLES[1:3]) -> str:
    """Which of Ray's processes this is, by the title Ray gives an actor's worker."""
    try:
        title = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return "ray"
    for needle, role in roles:
        if needle in title:
            return role
    return "ray"


def marked(mark: bytes) -> list[int]:
    """Pids whose environment carries `mark` (everything a `ppb up` started inherits it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if mark in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def descendants(pid: int, children: dict[int, list[int]]) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


class Part:
    """One process of the bench: started with a `ppb` on PYTHONPATH, ready when it says so,
    stopped by closing its stdin."""

    def __init__(self, name: str, command: list[str], tree: Path, log: TextIO) -> None:
        self.name = name
        self.log = log
        env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(command, env=env, cwd=tree, stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=log, text=True)
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def line(self, timeout: float) -> str:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise RuntimeError(f"{self.name}: no answer within {timeout:g} s (log: {self.log.name})") from None
        if line is None:
            raise RuntimeError(f"{self.name} stopped (exit {self.process.wait()}; log: {self.log.name})")
        return line

    def wait_ready(self, timeout: float = 300) -> None:
        while self.line(timeout) != "ready":
            pass

    def cpu(self) -> float:
        return cpu_seconds(self.process.pid)

    def stop(self) -> None:
        if self.process.stdin is not None and not self.process.stdin.closed:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Up:
    """`ppb up` in a process group of its own (its own SQLite file, Ray and ports), with the
    environment of `settings`; up once it printed its banner and its processes went quiet
    (the embedders done with the demo posts). Stopped as an operator would (Ctrl+C to its
    group), then whatever carries its mark is ended by pid."""

    def __init__(self, settings: dict[str, Any], tree: Path, workdir: Path, log_path: Path) -> None:
        self.mark = f"PPB_BENCH_UP={os.urandom(8).hex()}"
        env = {key: value for key, value in os.environ.items()
               if key != "RAY_ADDRESS" and not key.startswith("RAY_SERVE_HAPROXY_")}
        env.update({key: str(int(value)) if isinstance(value, bool) else str(value) for key, value in settings.items()})
        env.update({"PYTHONPATH": str(tree), "PYTHONUNBUFFERED": "1", "PPB_BENCH_UP": self.mark.split("=")[1]})
        self.log_path = log_path
        self.idle_cores = 0.0
        """What its processes used between updates, once up (Ray's own threads, the dashboard)."""
        with log_path.open("w") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "ppb", "up"], env=env, cwd=workdir, stdout=log,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True)

    def wait_ready(self, timeout: float = 400) -> None:
        deadline = time.monotonic() + timeout
        while "PPB is up" not in self.log_path.read_text():
            if self.process.poll() is not None:
                raise RuntimeError(f"ppb up stopped (exit {self.process.returncode}; log: {self.log_path})")
            if time.monotonic() > deadline:
                raise RuntimeError(f"ppb up: not up within {timeout:g} s (log: {self.log_path})")
            time.sleep(0.5)
        settle = min(deadline, time.monotonic() + 90)
        last = sum(cpu_seconds(pid) for pid in self.pids())
        while time.monotonic() < settle:  # quiet (the demo posts embedded): under 0.4 cores over 3 s
            time.sleep(3)
            now = sum(cpu_seconds(pid) for pid in self.pids())
            self.idle_cores = (now - last) / 3
            if self.idle_cores < 0.4:
                return
            last = now

    def pids(self) -> list[int]:
        return marked(self.mark.encode())

    def cpu(self) -> dict[str, float]:
        seconds: dict[str, float] = collections.Counter()
        for pid in self.pids():
            used = cpu_seconds(pid)
            seconds["up"] += used
            seconds[f"up: {ray_role(pid, UP_ROLES)}"] += used
        return dict(seconds)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        deadline = time.monotonic() + 30
        while self.pids() and time.monotonic() < deadline:
            time.sleep(0.2)
        for pid in self.pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@dataclass
class Run:
    latencies: list[float] = field(default_factory=list)
    steps: dict[str, list[float]] = field(default_factory=dict)
    seconds: float = 0.0
    cpu: collections.Counter[str] = field(default_factory=collections.Counter)
    load: list[float] = field(default_factory=list)

    def add(self, other: Run) -> None:
        self.latencies += other.latencies
        for step, values in other.steps.items():
            self.steps.setdefault(step, []).extend(values)
        self.seconds += other.seconds
        self.cpu.update(other.cpu)
        self.load += other.load

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


def settings_for(mode: str, database: Path, app_port: int, telegram_port: int) -> dict[str, Any]:
    """The app's and the bot's settings: the real bot configuration against a self-hosted
    Bot API (the emulator's process), as `BOT_TOKEN` and `BOT_API_BASE` point a bot anywhere."""
    return {
        "DATABASE_URL": f"sqlite:///{database}", "PPB_API_KEY": API_KEY, "PPB_HTTP_PORT": app_port,
        "PPB_DEMO_DATA": True, "DEFAULT_CHANNELS": "@ppb_demo_tech,@ppb_demo_kino", "POSTS_PER_CHANNEL": 3,
        "PPB_MAX_BONUS_CHANNELS": 1, "BOT_MODE": "webhook" if mode == "webhook" else "polling",
        "WEBHOOK_SECRET": "bench-secret", "BOT_TOKEN": TOKEN, "PPB_SANDBOX": False,
        "BOT_API_BASE": f"http://127.0.0.1:{telegram_port}/sandbox/botapi",
        "MINIAPP_URL": f"http://127.0.0.1:{app_port}/miniapp/",
        "PPB_BOT_UPDATES_PER_S": 1000, "PPB_BOT_BURST": 1000,  # persons here tap as fast as answers come
    }


class System:
    """The emulator, the app and (polling) the bot of one mode and tree, each in its process."""

    def __init__(self, mode: str, tree: Path, workdir: Path, index: int, trace: bool = False) -> None:
        self.mode, self.tree, self.workdir, self.index = mode, tree, workdir, index
        self.telegram_port, self.app_port = free_port(), free_port()
        self.settings = settings_for(mode, workdir / f"run-{index}.db", self.app_port, self.telegram_port)
        self.trace = trace
        self.parts: dict[str, Part] = {}
        self.up: Up | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.telegram_port}"

    def _start(self, role: str, **config: Any) -> None:
        config["settings"] = self.settings
        if self.trace:
            config["trace"] = str(self.workdir / f"trace-{self.index}-{role}.json")
        log = (self.workdir / f"run-{self.index}-{role}.log").open("w")
        part = Part(role, [sys.executable, str(HERE / "bot_parts.py"), role, json.dumps(config)], self.tree, log)
        self.parts[role] = part
        part.wait_ready()

    def __enter__(self) -> System:
        try:
            self._start("telegram", token=TOKEN, port=self.telegram_port)
            if self.mode == "up":
                self.up = Up(self.settings, self.tree, self.workdir, self.workdir / f"run-{self.index}-up.log")
                self.up.wait_ready()
                return self
            self._start("app")
            if self.mode != "webhook":
                self._start("bot", over_http=self.mode == "rest", actors=self.mode == "shards")
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.up is not None:
            self.up.stop()
        for name in ("bot", "app", "telegram"):  # the bot first: it polls the emulator
            if name in self.parts:
                self.parts.pop(name).stop()

    def cpu(self) -> dict[str, float]:
        """CPU seconds of each part, with every process it started (a Ray of its own); the
        bot's own process and its Ray's processes also apart: `bot: process`, `bot:
        chats-<k>`, `bot: users-<k>`, `bot: ray` (the rest of Ray: its store, scheduler,
        workers between tasks)."""
        children = process_tree()
        seconds: dict[str, float] = collections.Counter()
        for name, part in self.parts.items():
            for pid in descendants(part.process.pid, children):
                used = cpu_seconds(pid)
                seconds[name] += used
                if name == "bot":
                    seconds["bot: process" if pid == part.process.pid else f"bot: {ray_role(pid)}"] += used
        if self.up is not None:
            seconds.update(self.up.cpu())
        return dict(seconds)

    def traces(self) -> list[tuple[float, str, str]]:
        events: list[tuple[float, str, str]] = []
        for path in self.workdir.glob(f"trace-{self.index}-*.json"):
            events += [tuple(event) for event in json.loads(path.read_text())]  # type: ignore[misc]
        return sorted(events)


def persons(system: System, count: int, processes: int, first_id: int, duration: float, scenario: str,
            rate: float | None, start_in: float = 1.5) -> tuple[list[dict[str, Any]], float]:
    """Run `count` persons in `processes` processes from a common start; their reports and
    the start time."""
    start_at = time.time() + start_in
    shares = [count // processes + (1 if i < count % processes else 0) for i in range(processes)]
    running: list[subprocess.Popen[str]] = []
    offset = 0
    for share in shares:
        if not share:
            continue
        config = {"base": system.base, "persons": share, "persons_total": count, "first_index": offset,
                  "first_id": first_id + offset, "start_at": start_at, "duration": duration,
                  "scenario": scenario, "rate": rate}
        running.append(subprocess.Popen([sys.executable, str(HERE / "bot_persons.py"), json.dumps(config)],
                                        stdout=subprocess.PIPE, text=True))
        offset += share
    reports = []
    for process in running:
        out, _ = process.communicate(timeout=duration + 120)
        if process.returncode:
            raise RuntimeError(f"a persons process failed (exit {process.returncode})")
        reports.append(json.loads(out.strip().splitlines()[-1]))
    return reports, start_at


def measure(system: System, args: argparse.Namespace, first_id: int, profile: Path | None = None) -> Run:
    # warm up (imports, first connections, caches), then the measured window
    persons(system, min(4, args.persons), 1, first_id + 900_000, 2.0, args.scenario, None, start_in=0.5)
    spies: list[subprocess.Popen[bytes]] = []
    reports: list[dict[str, Any]] = []
    before: dict[str, float] = {}

    def snapshot() -> None:
        before.update(system.cpu())
        if profile is not None:
            spies.extend(spy(system, profile, args.duration))

    start_in = 1.5
    timer = threading.Timer(start_in, snapshot)
    timer.start()
    try:
        reports, start_at = persons(system, args.persons, args.person_processes, first_id, args.duration,
                                    args.scenario, args.rate, start_in)
    finally:
        timer.join()
    after = system.cpu()
    for process in spies:
        process.wait()
    run = Run(load=[os.getloadavg()[0]])
    for report in reports:
        for step, latency in report["latencies"]:
            run.latencies.append(latency)
            run.steps.setdefault(step, []).append(latency)
    run.seconds = max(report["finished"] for report in reports) - start_at
    run.cpu.update({name: after[name] - before.get(name, after[name]) for name in after})
    run.cpu["persons"] = sum(report["cpu_s"] for report in reports)
    if system.up is not None:  # what its processes would have used anyway, updates or not
        run.cpu["up: idle"] = system.up.idle_cores * run.seconds
    return run


def spy(system: System, directory: Path, duration: float) -> list[subprocess.Popen[bytes]]:
    """py-spy on every part for the measured window (raw collapsed stacks, one file each)."""
    executable = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    directory.mkdir(parents=True, exist_ok=True)
    return [subprocess.Popen([executable, "record", "-r", "100", "--nonblocking", "-f", "raw", "-d",
                              str(int(duration)), "-p", str(part.process.pid),
                              "-o", str(directory / f"{system.mode}-{system.index}-{name}.txt")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for name, part in system.parts.items()] + ([] if system.up is None else [
        subprocess.Popen([executable, "record", "-r", "100", "--nonblocking", "-f", "raw", "-d", str(int(duration)),
                          "-p", str(pid), "-o", str(directory / f"up-{system.index}-{ray_role(pid, UP_ROLES)}-{pid}.txt")],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for pid in system.up.pids() if ray_role(pid, UP_ROLES) not in ("ray", "haproxy")])


def trace(args: argparse.Namespace, workdir: Path) -> None:
    """One person on an idle system: every step of one update (`--trace N`: the N-th
    update of the scenario, 1 being /start) in every process; with `--before`, that tree's."""
    tree = ROOT if args.before is None else args.before.resolve()
    with System(args.modes[0], tree, workdir, 999, trace=True) as system:
        persons(system, 1, 1, FIRST_ID, 2.0, args.scenario, None, start_in=0.5)  # warm up
        time.sleep(0.5)
        cut = time.time()
        persons(system, 1, 1, FIRST_ID + 1, 1.0, args.scenario, None, start_in=0.5)
    events = [(when, process, what.split(" #")[0]) for when, process, what in system.traces() if when >= cut]
    sends = [i for i, e in enumerate(events) if e[2].endswith(("/callbacks in", "/messages in"))]
    if len(sends) <= args.trace:
        print("too few updates traced")
        return
    first, last = sends[args.trace - 1], sends[args.trace]
    t0 = events[first][0]
    print(f"update {args.trace} of the {args.scenario} scenario, {args.modes[0]} mode "
          "(ms from the person's message or press arriving at the emulator):")
    for when, process, what in events[first:last]:
        print(f"{1000 * (when - t0):8.2f}  {process:9} {what}")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=40, help="people chatting at once")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per run")
    parser.add_argument("--rounds", type=int, default=1,
                        help="run every column in turn this many times and add them up")
    parser.add_argument("--scenario", choices=("training", "menu"), default="training")
    parser.add_argument("--modes", type=lambda s: s.split(","), default=["polling", "webhook"],
                        help="comma-separated: polling, webhook, rest, shards (polling through the user and "
                             "chat shards as Ray actors, as `ppb up` runs the bot), up (the real `ppb up`)")
    parser.add_argument("--before", type=Path, metavar="DIR",
                        help="another checkout (e.g. `git archive` of main): every mode runs its `ppb` too")
    parser.add_argument("--rate", type=float, default=None,
                        help="open loop: updates a second the persons send together (default: closed loop)")
    parser.add_argument("--person-processes", type=int, default=1)
    parser.add_argument("--trace", type=int, default=0, metavar="N",
                        help="print the steps of one person's N-th update in every process, then stop")
    parser.add_argument("--profile", type=Path, metavar="DIR", help="py-spy every process of every run into DIR")
    args = parser.parse_args()
    trees = {"": ROOT} if args.before is None else {" (before)": args.before.resolve(), "": ROOT}
    columns = [(f"{mode}{suffix}", mode, tree) for mode in args.modes for suffix, tree in trees.items()]
    runs: dict[str, Run] = {}
    loads = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory(prefix="ppb-bench-bot-") as directory:
        workdir = Path(directory)
        if args.trace:
            trace(args, workdir)
            return
        index = 0
        for _ in range(args.rounds):
            for name, mode, tree in columns:
                index += 1
                with System(mode, tree, workdir, index) as system:
                    run = measure(system, args, FIRST_ID + 1_000_000 * index, args.profile)
                runs.setdefault(name, Run()).add(run)
                print(f"  {name}: {run.rate:.1f} updates/s, p50 {1000 * statistics.median(run.latencies):.1f} ms "
                      f"(load {run.load[0]:.1f}"
                      + ("" if system.up is None else f"; ppb up idle before: {system.up.idle_cores:.2f} cores")
                      + ")", file=sys.stderr, flush=True)
    loads.append(os.getloadavg()[0])
    report(args, runs, loads)


def total_cpu(run: Run) -> float:
    """CPU seconds of every part (Ray's processes counted once, in `bot` or `up`)."""
    return sum(seconds for name, seconds in run.cpu.items() if ": " not in name)


def report(args: argparse.Namespace, runs: dict[str, Run], loads: list[float]) -> None:
    loop = f"open loop at {args.rate:g} updates/s" if args.rate else "closed loop"
    print(f"bot end to end through the sandbox ({args.scenario}, {loop}): {args.persons} persons, "
          f"{args.duration:g} s per run, {args.rounds} round(s); load average (1 min) "
          f"{min(loads + [x for r in runs.values() for x in r.load]):.1f} to "
          f"{max(loads + [x for r in runs.values() for x in r.load]):.1f} on {os.cpu_count()} CPUs")
    names = list(runs)
    width = max(22, *(len(name) + 2 for name in names))
    print(f"{'':26}" + "".join(f"{name:>{width}}" for name in names))
    parts = ["telegram", "app", "bot", "bot: process", "bot: chats-<k>", "bot: users-<k>", "bot: ray",
             "up", *(f"up: {role}" for _, role in UP_ROLES), "up: ray", "up: idle", "persons"]
    parts = [part for part in parts if any(part in run.cpu for run in runs.values())]
    rows: list[tuple[str, Any, str]] = [
        ("updates", lambda r: len(r.latencies), "{:.0f}"),
        ("updates/s", lambda r: r.rate, "{:.1f}"),
        ("p50 ms", lambda r: 1000 * statistics.median(r.latencies), "{:.1f}"),
        ("p95 ms", lambda r: 1000 * percentile(r.latencies, 0.95), "{:.1f}"),
        ("p99 ms", lambda r: 1000 * percentile(r.latencies, 0.99), "{:.1f}"),
        *((f"CPU ms/update: {part}", (lambda p: lambda r: 1000 * r.cpu.get(p, 0.0) / max(1, len(r.latencies)))(part),
           "{:.2f}") for part in parts),
        ("CPU ms/update: total", lambda r: 1000 * total_cpu(r) / max(1, len(r.latencies)), "{:.2f}"),
        ("cores busy", lambda r: total_cpu(r) / r.seconds if r.seconds else 0.0, "{:.2f}"),
    ]
    for label, value, shape in rows:
        print(f"{label:26}" + "".join(f"{shape.format(value(runs[name])):>{width}}" for name in names))
    steps = list(dict.fromkeys(step for run in runs.values() for step in run.steps))
    for step in steps:  # each kind of update: how many, its p50 and p95
        cells = []
        for name in names:
            values = runs[name].steps.get(step, [])
            cells.append(f"{len(values)} x {1000 * statistics.median(values):.0f} / {1000 * percentile(values, 0.95):.0f}"
                         if values else "-")
        print(f"{'p50/p95 ms: ' + step:26}" + "".join(f"{cell:>{width}}" for cell in cells))
    for name in names:  # of the updates slower than the p95, how many of each kind
        cut = percentile(runs[name].latencies, 0.95)
        slow = collections.Counter(step for step, values in runs[name].steps.items() for value in values if value >= cut)
        print(f"{name}: at or over p95 ({1000 * cut:.0f} ms): "
              + ", ".join(f"{count} {step}" for step, count in slow.most_common()))
    for mode in args.modes:
        old, new = runs.get(f"{mode} (before)"), runs.get(mode)
        if old and new and old.latencies and new.latencies:
            print(f"{mode}: updates/s {new.rate / old.rate:.1f}x, p50 "
                  f"{statistics.median(old.latencies) / statistics.median(new.latencies):.1f}x lower, CPU per update "
                  f"{total_cpu(old) / len(old.latencies) / (total_cpu(new) / len(new.latencies)):.1f}x less")


if __name__ == "__main__":
    main()
