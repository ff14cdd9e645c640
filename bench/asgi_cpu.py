"""CPU per request of the HTTP app itself, without a server or a socket: `GET /healthz` and a
rating (`POST /api/v1/posts/interactions`), 16 requests at once, called straight through ASGI
in one process, with the rating's SQL alone beside them (the two statements and the COMMIT of
`SQLiteEngine.rate`, in batches as the group commit makes them; the one rater's activity
stamped within the minute, so the status read, not the stamp).

`bench/api.py` measures the whole server; this splits a rating's CPU above the trivial
route's into the app's Python and SQLite's, so a change to one shows without the machine's
other load blurring it as much (the process's own CPU time, user and system).

    PYTHONPATH=$PWD python bench/asgi_cpu.py --posts 10000 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import sqlite3
import tempfile
from datetime import UTC, datetime
from pathlib import Path

USER = 777
KEY = "k" * 32
BATCH = 16


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def call(app, method: str, path: str, body: bytes = b"") -> None:
    headers = [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"), (b"x-api-key", KEY.encode()),
               (b"content-length", str(len(body)).encode())]
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"", "headers": headers,
             "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000), "state": {}}
    given = False

    async def receive() -> dict:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # no disconnect while the app answers
        return {"type": "http.disconnect"}

    status = []

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    await app(scope, receive, send)
    assert status == [200], (path, status)


async def seed(url: str, posts: int) -> list[int]:
    from ppb.store.queries import NewPost, Store

    store = Store(url)
    await store.connect()
    try:
        await store.upsert_user(USER, None, None, None)
        channel = await store.upsert_channel(-1009990001, None, "Bench")
        now = datetime.now(UTC)
        _, ids = await store.add_posts(channel["id"], [NewPost(n + 1, f"post {n} " + "words " * 20, "text", now)
                                                       for n in range(posts)])
        return ids
    finally:
        await store.disconnect()


def sql_alone(path: Path, ids: list[int], count: int) -> float:
    """CPU seconds per rating of the rating's statements and their share of a COMMIT."""
    from ppb.store.engine import sqlite as engine
    from ppb.store.engine.sqlite import RATE, TOUCH, stored_time
    from ppb.store.engine.sqlite_pool import TunedConnection

    status = getattr(engine, "STATUS", None)  # the rater stamped within the minute: the status read only
    rate_and_status = getattr(engine, "RATE_AND_STATUS", None)  # ... or read by the rating's own statement

    connection = sqlite3.connect(path, factory=TunedConnection, isolation_level=None)
    started = cpu()
    for _ in range(0, count, BATCH):
        connection.execute("BEGIN IMMEDIATE")
        for _ in range(BATCH):
            stamp = stored_time(datetime.now(UTC))
            post = random.choice(ids)
            values = (post, random.choice(["like", "dislike"]), stamp, USER, post)
            if rate_and_status is not None:
                connection.execute(rate_and_status, values).fetchone()
                continue
            found = connection.execute(RATE, values).fetchone()
            if status is None:  # a tree that stamps every rating
                connection.execute(TOUCH, (stamp, found[1])).fetchone()
            else:
                connection.execute(status, (found[1],)).fetchone()
        connection.execute("COMMIT")
    spent = (cpu() - started) / count
    connection.close()
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    path = Path(tempfile.mkdtemp(prefix="ppb-asgi-")) / "bench.db"
    os.environ.update(DATABASE_URL=f"sqlite:///{path}", PPB_API_KEY=KEY, PPB_EMBEDDINGS="off")
    from ppb.compose.web import http_app
    from ppb.config import load_settings
    from ppb.store.migrate import upgrade

    settings = load_settings()
    upgrade(settings.async_database_url)
    ids = asyncio.run(seed(settings.async_database_url, args.posts))
    asyncio.run(measure(http_app(settings), path, ids, args))


async def measure(app, path: Path, ids: list[int], args: argparse.Namespace) -> None:
    kinds = [b"like", b"dislike", b"skip"]

    def rate():
        body = b'{"user_telegram_id": %d, "post_id": %d, "interaction_type": "%s"}' % (
            USER, random.choice(ids), random.choice(kinds))
        return call(app, "POST", "/api/v1/posts/interactions", body)

    routes = {"trivial": lambda: call(app, "GET", "/healthz"), "rate": rate}
    async with app.router.lifespan_context(app):
        for _ in range(args.rounds):
            spent = {}
            for name, request in routes.items():
                for _ in range(20):  # warm
                    await asyncio.gather(*(request() for _ in range(BATCH)))
                started = cpu()
                for _ in range(args.requests // BATCH):
                    await asyncio.gather(*(request() for _ in range(BATCH)))
                spent[name] = (cpu() - started) / args.requests
            sql = sql_alone(path, ids, args.requests)
            load = " ".join(open("/proc/loadavg").read().split()[:3])
            print(f"trivial {spent['trivial'] * 1e6:6.1f} us   rate {spent['rate'] * 1e6:6.1f} us "
                  f"(of which the SQL alone {sql * 1e6:5.1f} us)   rate/trivial {spent['rate'] / spent['trivial']:.2f}"
                  f"   load {load}", flush=True)


if __name__ == "__main__":
    main()
