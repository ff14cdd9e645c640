"""Requests/s and p50/p99 for a trivial route, rating a post and the feed, through Serve and
bare uvicorn.

Every server runs in turn on the same machine and database, loaded by wrk (Debian's `wrk`:
the one thing this bench needs beyond the project's own packages), so the figures sit side
by side. The feed ranks over `--posts` candidates (10,000 by default). Prints a table with
the Serve/bare ratios and each route's share of the trivial route's rate.

    python bench/api.py [--connections 16] [--duration 10] [--database-url URL] [--posts 10000]
                        [--feed-users 16]

Under each route's figures, the CPU milliseconds per request each group of the server's
processes used (bench/cpu_groups.py: the API process or replica, HAProxy, Serve's controller,
Ray's daemons, each PPB actor), wrk's own, and `others`: what the rest of the machine used
meanwhile. Each server is measured once the embedding stage has made every seeded post's rows
(10k posts keep it busy for minutes) and its processes have settled (parts that start after
the API answers, like the outbox importing the bot, would be counted otherwise).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

import cpu_groups

API_KEY = "bench-key"
USER = 777000
FEED_USER = 777001
"""The feed is asked for by users the rating run leaves alone (`--feed-users` of them, ids
from this one up): 40 ratings each, each with its own likes and dislikes, a trained model
(the rater's history grows by thousands during its run, and a model refit per call on them
is a different bench). Each request picks one at random, so no two can be served as one."""
FEED_USERS = 16
CHANNEL = -1009990001
POSTS = 10_000
TRIVIAL_LUA = """
request = function()
  return wrk.format("GET", "/healthz")
end
"""

RATE_LUA = """
math.randomseed(os.time())
local kinds = {{"like", "dislike", "skip"}}
request = function()
  local body = string.format('{{"user_telegram_id": %d, "post_id": %d, "interaction_type": "%s"}}',
    {user}, math.random({first}, {last}), kinds[math.random(1, 3)])
  return wrk.format("POST", "/api/v1/posts/interactions", {{["Content-Type"]="application/json", ["X-API-Key"]="{key}"}}, body)
end
"""

BEST_LUA = """
math.randomseed(os.time() + tonumber(tostring({{}}):sub(8), 16))
request = function()
  local body = string.format('{{"user_telegram_id": %d, "limit": 10}}', math.random({first}, {last}))
  return wrk.format("POST", "/api/v1/posts/best", {{["Content-Type"]="application/json", ["X-API-Key"]="{key}"}}, body)
end
"""


@dataclass
class Result:
    server: str
    route: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu: dict[str, float]
    """CPU seconds per request of each process group (bench/cpu_groups.py), wrk's included."""


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(base: str, process: subprocess.Popen, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError("server did not become ready")


def feed_users(count: int) -> list[int]:
    return [FEED_USER + n for n in range(count)]


def liked(user: int, index: int) -> bool:
    """Each user's own likes among the 40 rated posts, a quarter to a half of them, never
    all or none (the rater and the first feed user like every fourth, as before)."""
    if user in (USER, FEED_USER):
        return index % 4 == 0
    share = 0.25 + 0.25 * ((user - FEED_USER) % 4) / 3
    pattern = random.Random(user).sample(range(1, 40), round(40 * share) - 1)
    return index == 0 or index in pattern


def wait_embedded(database_url: str, timeout_s: float = 900.0) -> float:
    """Wait until the embedding stage has made every seeded post's vector and n-gram row (the
    server does it in its own process; measured while it works through 10k posts, a route's
    figures are the stage's as much as its own); returns the seconds waited."""
    import asyncio

    from ppb.compose.core import embedder
    from ppb.compose.store import connected_store
    from ppb.config import load_settings
    from ppb.ranking import outgrown

    async def done() -> bool:
        settings = load_settings(DATABASE_URL=database_url)
        store = await connected_store(settings)
        try:
            stage = embedder(settings, store)
            if stage is None:
                return True
            versions = await store.text_model_versions()
            current = bool(versions) and versions[0].ready and not outgrown(
                versions[0].documents, await store.newest_post_id())  # not about to be estimated again
            return current and await stage.backlog() == 0
        finally:
            await store.disconnect()

    started = time.monotonic()
    while not asyncio.run(done()) and time.monotonic() - started < timeout_s:
        time.sleep(2)
    return time.monotonic() - started


def seed(base: str, count: int = POSTS, feed_count: int = FEED_USERS) -> tuple[int, int]:
    """The rater and the feed users, a channel of `count` posts, 40 ratings each; returns
    the post id range."""
    headers = {"X-API-Key": API_KEY}
    everyone = [USER, *feed_users(feed_count)]
    with httpx.Client(base_url=base, headers=headers, timeout=600) as client:  # the first calls vectorize every post
        for user in everyone:
            client.post("/api/v1/users/", json={"telegram_id": user}).raise_for_status()
        client.post(
            "/api/v1/channels/", json={"telegram_id": CHANNEL, "username": "benchnews", "title": "Bench"}
        ).raise_for_status()
        topics = ["rockets engines orbit", "football match goal", "pasta sauce recipe", "stocks market rates"]
        posts = [
            {
                "telegram_message_id": n,
                "text": f"Post {n} about {topics[n % 4]} and more words {n % 97}",
                "posted_at": f"2024-01-{1 + n % 28:02d}T{n % 24:02d}:00:00Z",
            }
            for n in range(1, count + 1)
        ]
        ids = []
        for start in range(0, len(posts), 2000):
            ids += client.post(
                "/api/v1/posts/bulk", json={"channel_telegram_id": CHANNEL, "posts": posts[start : start + 2000]}
            ).json()["post_ids"]
        for user in everyone:
            client.post(
                "/api/v1/posts/training",
                json={"user_telegram_id": user, "channel_usernames": ["benchnews"], "posts_per_channel": 5},
            ).raise_for_status()
            for index, post_id in enumerate(ids[:40]):
                kind = "like" if liked(user, index) else "dislike"
                client.post(
                    "/api/v1/posts/interactions",
                    json={"user_telegram_id": user, "post_id": post_id, "interaction_type": kind},
                ).raise_for_status()
            client.post("/api/v1/ml/train", json={"user_telegram_id": user}).raise_for_status()
        return ids[40], ids[-1]


def run_wrk(base: str, script: str, connections: int, duration: int) -> tuple[float, float, float, int]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    threads = min(2, connections)
    output = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "-s", handle.name, base],
        capture_output=True, text=True, check=True,
    ).stdout
    os.unlink(handle.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p50 = _ms(re.search(r"50%\s+([\d.]+\w+)", output).group(1))
    p99 = _ms(re.search(r"99%\s+([\d.]+\w+)", output).group(1))
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    errors += sum(int(n) for n in re.findall(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)[0]) if "Socket errors" in output else 0
    return rps, p50, p99, errors


def _cpu_line(cpu: dict[str, float]) -> str:
    """Each group's CPU ms per request, largest first; `others` is the machine's busy time
    no process of the server or wrk used (other work on a shared machine)."""
    ours = sum(seconds for group, seconds in cpu.items() if group != "machine")
    shown = {group: seconds for group, seconds in cpu.items() if group != "machine" and seconds * 1000 >= 0.0005}
    shown["others"] = max(0.0, cpu.get("machine", 0.0) - ours)
    parts = [f"{group} {seconds * 1000:.3f}" for group, seconds in sorted(shown.items(), key=lambda item: -item[1])]
    return ", ".join(parts) + f" (server+wrk {ours * 1000:.3f})"


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def start(kind: str, database_url: str, port: int, workdir: Path, before: str | None = None) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PPB_API_KEY": API_KEY,
        "PPB_HTTP_PORT": str(port),
    }
    log = workdir / f"{kind.replace('/', '_')}.log"
    kind, *assignments = kind.split("+")  # serve-haproxy+PPB_API_REPLICAS=2: a variant by environment
    env.update(assignment.split("=", 1) for assignment in assignments)
    if kind.endswith("-before"):  # the same server from another checkout's `ppb` package
        kind = kind.removesuffix("-before")
        env["PYTHONPATH"] = str(before)
    if kind == "bare":
        command = ["ppb", "api", "--bare"]
    else:
        env["PPB_SERVE_PROXY"] = kind.removeprefix("serve-")
        command = ["ppb", "up"]
    executable = str(Path(sys.executable).with_name("ppb"))
    return subprocess.Popen(
        [executable, *command[1:]], env=env, cwd=workdir,
        stdout=log.open("w"), stderr=subprocess.STDOUT,
    )


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=120)
    except subprocess.TimeoutExpired:
        process.kill()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--servers", default="bare,serve-haproxy",
                        help="bare, serve-haproxy, serve-default, each optionally -before (--before's checkout) "
                        "and +NAME=value environment of its own (serve-haproxy+PPB_API_REPLICAS=2)")
    parser.add_argument("--posts", type=int, default=POSTS, help="the feed's candidates")
    parser.add_argument("--routes", default="trivial,rate,best")
    parser.add_argument("--feed-users", type=int, default=FEED_USERS,
                        help="users the feed requests pick from at random (each with 40 ratings)")
    parser.add_argument("--before", metavar="DIR", help="another checkout (e.g. `git archive` of main): "
                        "servers named <server>-before in --servers run its `ppb` package")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("bench/api.py needs wrk: apt-get install -y wrk", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="ppb-bench-"))
    database_url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
    results: list[Result] = []
    seeded: tuple[int, int] | None = None
    for server in args.servers.split(","):
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        process = start(server, database_url, port, workdir, args.before)
        try:
            wait_ready(base, process)
            seeded = seeded or seed(base, args.posts, args.feed_users)
            first, last = seeded
            scripts = {
                "GET /healthz (trivial)": TRIVIAL_LUA,
                "POST /posts/interactions": RATE_LUA.format(user=USER, first=first, last=last, key=API_KEY),
                "POST /posts/best": BEST_LUA.format(first=FEED_USER, last=FEED_USER + args.feed_users - 1, key=API_KEY),
            }
            wanted = dict(zip(("trivial", "rate", "best"), scripts))
            scripts = {wanted[name]: scripts[wanted[name]] for name in args.routes.split(",")}
            with httpx.Client(base_url=base, headers={"X-API-Key": API_KEY}, timeout=600) as client:
                # one feed call each first: the cold caches (vectors of every candidate) fill once
                for user in feed_users(args.feed_users):
                    client.post("/api/v1/posts/best", json={"user_telegram_id": user, "limit": 10}).raise_for_status()
            embedded = wait_embedded(database_url)
            waited = cpu_groups.settle(process.pid)
            print(f"{server:14} embedded after {embedded:.0f} s, settled after {waited:.0f} s", flush=True)
            for route, script in scripts.items():
                run_wrk(base, script, args.connections, 2)  # warm up
                before_cpu, before_wrk = cpu_groups.sample(process.pid), cpu_groups.children_cpu()
                rps, p50, p99, errors = run_wrk(base, script, args.connections, args.duration)
                spent = cpu_groups.spent(before_cpu, cpu_groups.sample(process.pid))
                spent["wrk"] = cpu_groups.children_cpu() - before_wrk
                requests = max(1.0, rps * args.duration)
                cpu = {group: seconds / requests for group, seconds in spent.items()}
                results.append(Result(server, route, rps, p50, p99, errors, cpu))
                print(f"{server:14} {route:26} {rps:9.1f} req/s  p50 {p50:7.2f} ms  p99 {p99:8.2f} ms  errors {errors}", flush=True)
                print(f"{'':14} CPU ms/request: {_cpu_line(cpu)}", flush=True)
        finally:
            stop(process)

    load = os.getloadavg()
    print(f"\n{args.connections} connections, {args.duration}s each, database {database_url.split(':')[0]}, "
          f"{args.posts:,} posts, {args.feed_users} feed users, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'server':14} {'route':26} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'vs bare':>8} {'vs trivial':>10}"
          f" {'API CPU ms/req':>14} {'all CPU ms/req':>14}")
    bare = {r.route: r.rps for r in results if r.server == "bare"}
    trivial = {r.server: r.rps for r in results if r.route.startswith("GET /healthz")}
    for r in results:
        ratio = f"{r.rps / bare[r.route]:.2f}x" if r.route in bare and bare[r.route] else "-"
        share = f"{r.rps / trivial[r.server]:.2f}x" if trivial.get(r.server) else "-"
        ours = sum(seconds for group, seconds in r.cpu.items() if group not in ("machine", "wrk"))
        print(f"{r.server:14} {r.route:26} {r.rps:9.1f} {r.p50_ms:8.2f} {r.p99_ms:8.2f} {ratio:>8} {share:>10}"
              f" {r.cpu.get('api', 0.0) * 1000:14.3f} {ours * 1000:14.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
