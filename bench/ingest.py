"""Posts per second into SQLite and PostgreSQL: through `POST /posts/bulk`, through `ppb import`
and through the scraper.

Each backend gets a fresh database; each path writes its own channel of N posts. The bulk
path runs against a bare uvicorn server (`ppb api --bare`) in batches of the largest
request the API accepts; the import path reads a Telegram Desktop export of N messages
(JSON parsing included); the scraper path reads C channels of M posts each through a real
Telethon client on the Telegram stand (`tests/telegram_stand.py`: only the network is
replaced) and stores them, then does it again on new channels under cProfile to find the
share of the time Telethon's own code takes. Prints one table; asserts nothing about time.

    python bench/ingest.py [--posts 100000] [--batch 5000] [--postgres-admin-url URL]
                           [--paths bulk,import,scraper] [--scraper-channels 10] [--scraper-posts 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ppb.config import load_settings  # noqa: E402
from ppb.scraper.importer import import_file  # noqa: E402
from ppb.store.migrate import upgrade  # noqa: E402
from ppb.store.queries import Store  # noqa: E402

API_KEY = "bench-key"
BULK_CHANNEL = -1008880000001
IMPORT_BARE_ID = 8880000002


@dataclass
class Result:
    backend: str
    path: str
    posts: int
    created: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.created / self.seconds if self.seconds else 0.0


def post_text(n: int) -> str:
    return f"Post {n}: harbour cranes unload {n % 97} containers; the tide turns at {n % 24}:00 #bench"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_api(database_url: str, workdir: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {
        **os.environ, "DATABASE_URL": database_url, "PPB_API_KEY": API_KEY, "PPB_HTTP_PORT": str(port),
        "PPB_DEMO_DATA": "0",
    }
    env.pop("TELETHON_SESSION", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "ppb", "api", "--bare"], env=env, cwd=workdir,
        stdout=(workdir / "api.log").open("w"), stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the API exited; see {workdir / 'api.log'}")
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return process, base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the API did not become ready")


def stop_api(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()


def bench_bulk(backend: str, database_url: str, posts: int, batch: int, workdir: Path) -> Result:
    process, base = start_api(database_url, workdir)
    try:
        with httpx.Client(base_url=base, headers={"X-API-Key": API_KEY}, timeout=300) as client:
            client.post("/api/v1/channels/", json={"telegram_id": BULK_CHANNEL, "title": "Bulk bench"}).raise_for_status()
            bodies = [
                json.dumps({
                    "channel_telegram_id": BULK_CHANNEL,
                    "posts": [
                        {"telegram_message_id": n, "text": post_text(n), "media_type": "text",
                         "posted_at": f"2026-01-01T00:00:{n % 60:02d}Z"}
                        for n in range(start, min(start + batch, posts + 1))
                    ],
                })
                for start in range(1, posts + 1, batch)
            ]
            created = 0
            began = time.perf_counter()
            for body in bodies:
                response = client.post("/api/v1/posts/bulk", content=body, headers={"Content-Type": "application/json"})
                response.raise_for_status()
                created += response.json()["created_count"]
            seconds = time.perf_counter() - began
    finally:
        stop_api(process)
    return Result(backend, f"posts/bulk ({batch}/request)", posts, created, seconds)


def write_export(path: Path, posts: int) -> None:
    messages = [
        {"id": n, "type": "message", "date": "2026-01-01T00:00:00", "date_unixtime": str(1767225600 + n),
         "text": post_text(n) if n % 3 else ["Post ", {"type": "text_link", "text": str(n), "href": f"https://example.org/{n}"}]}
        for n in range(1, posts + 1)
    ]
    path.write_text(json.dumps({"name": "Import bench", "type": "public_channel", "id": IMPORT_BARE_ID, "messages": messages}))


async def bench_import(backend: str, database_url: str, export: Path, posts: int) -> Result:
    store = Store(load_settings(DATABASE_URL=database_url).async_database_url)
    await store.connect()
    try:
        began = time.perf_counter()
        results, _ = await import_file(store, export, progress_from=10**12)
        seconds = time.perf_counter() - began
    finally:
        await store.disconnect()
    return Result(backend, "ppb import (parse + write)", posts, results[0].created, seconds)


def stand_channels(stand: object, prefix: str, channels: int, per_channel: int) -> list[str]:
    """Channels of `per_channel` posts: mostly text, every 5th formatted (bold and a text link),
    every 7th a photo, every 50th an album of three."""
    from telethon.tl import types

    from tests.telegram_stand import photo

    names = []
    for c in range(channels):
        channel = stand.add_channel(f"{prefix}{c}x{uuid.uuid4().hex[:6]}", f"Bench {prefix} {c}")  # type: ignore[attr-defined]
        for n in range(1, per_channel + 1):
            text = post_text(n)
            if n % 50 == 0:
                stand.album(channel, text, photo(), photo(), photo())  # type: ignore[attr-defined]
            elif n % 5 == 0:
                stand.post(channel, text, entities=[  # type: ignore[attr-defined]
                    types.MessageEntityBold(offset=0, length=4),
                    types.MessageEntityTextUrl(offset=5, length=len(str(n)), url=f"https://example.org/{n}")])
            elif n % 7 == 0:
                stand.post(channel, text, media=photo())  # type: ignore[attr-defined]
            else:
                stand.post(channel, text)  # type: ignore[attr-defined]
        names.append(channel.username)
    return names


DRIVERS = ("sqlalchemy", "databases", "aiosqlite", "asyncpg", "sqlite3")


def telethon_share(profile: cProfile.Profile) -> tuple[float, float, float, float, float]:
    """(profiled seconds, and the shares of Telethon, the stand, PPB's code and the database
    layers) from a profile's own times.

    Telethon's share is the self time of functions in Telethon's modules, less what the stand
    asked of Telethon's TL code for Telegram's side of the wire (`server_decodes` reading
    requests, `server_encodes` writing answers and updates): the client's own processing,
    its TL encoding of requests and decoding of answers included."""
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    total = sum(entry[2] for entry in stats.values())
    telethon = sum(entry[2] for key, entry in stats.items() if f"{os.sep}telethon{os.sep}" in key[0])
    stand_own = sum(entry[2] for key, entry in stats.items() if key[0].endswith("telegram_stand.py"))
    stand_asked = sum(
        edge[3]
        for key, entry in stats.items() if f"{os.sep}telethon{os.sep}" in key[0]
        for caller, edge in entry[4].items()
        if caller[0].endswith("telegram_stand.py") and caller[2] in ("server_decodes", "server_encodes")
    )
    ppb = sum(entry[2] for key, entry in stats.items() if f"{os.sep}ppb{os.sep}" in key[0])
    database = sum(entry[2] for key, entry in stats.items()
                   if any(f"{os.sep}{name}" in key[0] for name in DRIVERS))
    return total, (telethon - stand_asked) / total, (stand_own + stand_asked) / total, ppb / total, database / total


async def bench_scraper(backend: str, database_url: str, channels: int, per_channel: int) -> list[Result]:
    """The scraper reading `channels` × `per_channel` posts through Telethon into the store;
    the second run, on new channels, under cProfile."""
    from ppb.scraper.session import Scraper
    from tests.telegram_stand import TelegramStand, scraper_clients

    stand = TelegramStand()
    session = stand.session_string()
    plain = stand_channels(stand, "plain", channels, per_channel)
    profiled = stand_channels(stand, "profiled", channels, per_channel)
    store = Store(load_settings(DATABASE_URL=database_url).async_database_url)
    await store.connect()
    scraper = Scraper(store, scraper_clients(stand, session), name="bench", refresh_interval=3600)
    results = []
    try:
        await scraper.start()
        for names, profile in ((plain, None), (profiled, cProfile.Profile())):
            created = 0
            began = time.perf_counter()
            if profile is not None:
                profile.enable()
            for name in names:
                created += (await scraper.scrape(name, per_channel))["created_count"]
            if profile is not None:
                profile.disable()
            seconds = time.perf_counter() - began
            if profile is None:
                results.append(Result(backend, f"scraper ({channels}x{per_channel}, Telethon)", channels * per_channel,
                                      created, seconds))
            else:
                total, telethon, stand_part, ppb, database = telethon_share(profile)
                print(f"{backend}: scraper under cProfile {seconds:.1f} s, profiled {total:.1f} s: Telethon "
                      f"{telethon:.0%}, the stand (Telegram's side) {stand_part:.0%}, PPB {ppb:.0%}, database "
                      f"layers {database:.0%}, asyncio and the rest {1 - telethon - stand_part - ppb - database:.0%}; "
                      f"{stand.calls['messages.GetHistory']} getHistory requests in all")
    finally:
        await scraper.close()
        await store.disconnect()
    return results


async def create_postgres(admin_url: str) -> str:
    import asyncpg

    name = f"ppb_bench_{uuid.uuid4().hex[:8]}"
    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return f"{admin_url.rsplit('/', 1)[0]}/{name}"


async def drop_postgres(admin_url: str, url: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    finally:
        await connection.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=5000, help="posts per posts/bulk request (max 5000)")
    parser.add_argument("--postgres-admin-url", default=os.environ.get("PPB_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--paths", default="bulk,import,scraper", help="which paths to run, comma separated")
    parser.add_argument("--scraper-channels", type=int, default=10)
    parser.add_argument("--scraper-posts", type=int, default=1000, help="posts per channel (at most 1000, a scrape's limit)")
    args = parser.parse_args()
    paths = set(args.paths.split(","))

    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="ppb-ingest-") as tmp:
        workdir = Path(tmp)
        export = workdir / "result.json"
        if "import" in paths:
            write_export(export, args.posts)
        backends = [("sqlite", f"sqlite:///{workdir / 'bench.db'}")]
        if not args.skip_postgres:
            backends.append(("postgres", asyncio.run(create_postgres(args.postgres_admin_url))))
        try:
            for backend, url in backends:
                upgrade(load_settings(DATABASE_URL=url).async_database_url)
                if "bulk" in paths:
                    results.append(bench_bulk(backend, url, args.posts, args.batch, workdir))
                if "import" in paths:
                    results.append(asyncio.run(bench_import(backend, url, export, args.posts)))
                if "scraper" in paths:
                    results += asyncio.run(bench_scraper(backend, url, args.scraper_channels, args.scraper_posts))
        finally:
            if not args.skip_postgres:
                asyncio.run(drop_postgres(args.postgres_admin_url, backends[-1][1]))

    print(f"\n{'backend':<10} {'path':<36} {'posts':>8} {'new':>8} {'seconds':>8} {'posts/s':>9}")
    for r in results:
        print(f"{r.backend:<10} {r.path:<36} {r.posts:>8} {r.created:>8} {r.seconds:>8.2f} {r.rate:>9.0f}")
    by = {(r.backend, r.path.split()[0]): r.rate for r in results}
    for backend in dict.fromkeys(r.backend for r in results):
        bulk, imp = by.get((backend, "posts/bulk")), by.get((backend, "ppb"))
        if bulk and imp:
            print(f"{backend}: import / posts/bulk = {imp / bulk:.2f}")
    if ("sqlite", "ppb") in by and ("postgres", "ppb") in by:
        print(f"import: postgres / sqlite = {by[('postgres', 'ppb')] / by[('sqlite', 'ppb')]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
