"""The console's analytics and A/B results at a million interactions, on SQLite and
PostgreSQL side by side: the time of each query (median of a few runs), and the plan of
the three that read the most rows.

    python bench/analytics.py [--interactions 1000000] [--users 20000] [--runs 3] [--postgres-admin-url URL]

The data: users spread over the funnel with their logged transitions, 5 channels each,
ratings over 90 days (the first 10 of each user in training, the rest feed posts sent into
the chat first, one in 20 of them asked why about a minute before), a nudge for every other
user, and a running experiment with every user assigned. Inserted in bulk with the database's own client (not what is measured). Prints
tables; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ppb.config import load_settings  # noqa: E402
from ppb.store.analytics import Analytics  # noqa: E402
from ppb.store.experiments import Experiments  # noqa: E402
from ppb.store.migrate import upgrade  # noqa: E402
from ppb.store.queries import Store  # noqa: E402

NOW = datetime.now(UTC).replace(microsecond=0)
CHANNELS = 200
POSTS_PER_CHANNEL = 500
FOLLOWS = 5
TRAINING = 10
STATUSES = [("new", 0.05), ("onboarding", 0.05), ("training", 0.1), ("trained", 0.2), ("active", 0.5), ("churned", 0.1)]
STAGE = {name: index for index, (name, _) in enumerate(STATUSES)}
EXPLAINED = 0.05
"""The share of feed ratings asked about (why this post) a minute before."""
LEADS = ["text", "liked", "peers", "explore", "dial", "must", "none"]
SURFACES = ["chat", "miniapp", "api"]
LOGGED = [("status:start", "onboarding"), ("status:start_training", "training"),
          ("status:complete_training", "trained"), ("status:view_feed", "active"), ("status:churn", "churned")]


def generate(users: int, interactions: int) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, deterministic (seeded)."""
    rng = random.Random(17)
    raters = sum(share for name, share in STATUSES if STAGE[name] >= STAGE["training"])
    per_user = max(TRAINING + 1, round(interactions / (users * raters)))  # only those past onboarding rate
    rows: dict[str, list[tuple[Any, ...]]] = {name: [] for name in (
        "users", "channels", "posts", "user_channels", "interactions", "chat_posts", "user_logs", "nudges",
        "experiment_assignments", "explanations")}
    for c in range(1, CHANNELS + 1):
        rows["channels"].append((c, -1_000_000_000_000 - c, f"bench{c}", f"Channel {c}", c <= 3, NOW - timedelta(days=200)))
        for m in range(POSTS_PER_CHANNEL):
            post_id = (c - 1) * POSTS_PER_CHANNEL + m + 1
            rows["posts"].append((post_id, c, m + 1, f"post {post_id}", "text", NOW - timedelta(hours=m), NOW - timedelta(hours=m)))
    weights = [share for _, share in STATUSES]
    names = [name for name, _ in STATUSES]
    link_id = rating_id = sent_id = log_id = nudge_id = explanation_id = 0
    for u in range(1, users + 1):
        status = rng.choices(names, weights)[0]
        joined = NOW - timedelta(days=rng.uniform(1, 90))
        rows["users"].append((u, 1_000_000_000 + u, f"user{u}", f"User {u}", None, "en", status,
                              STAGE[status] >= STAGE["trained"], 0, joined, joined, joined + timedelta(hours=1)))
        at = joined
        for action, target in LOGGED:
            if STAGE[status] < STAGE[target]:
                break
            at += timedelta(minutes=rng.uniform(1, 30))
            log_id += 1
            rows["user_logs"].append((log_id, u, action, '{"bench": true}', at))
        followed = rng.sample(range(1, CHANNELS + 1), FOLLOWS)
        for c in followed:
            link_id += 1
            rows["user_channels"].append((link_id, u, c, True, False, joined))
        rows["experiment_assignments"].append((u, 1, u, "control" if rng.random() < 0.5 else "explore", joined))
        if STAGE[status] < STAGE["training"]:
            continue
        pool = [(c - 1) * POSTS_PER_CHANNEL + m + 1 for c in followed for m in range(POSTS_PER_CHANNEL)]
        for index, post_id in enumerate(rng.sample(pool, per_user)):
            rated = joined + timedelta(seconds=rng.uniform(60, (NOW - joined).total_seconds()))
            if index >= TRAINING:
                sent_id += 1
                rows["chat_posts"].append((sent_id, u, post_id, rated - timedelta(minutes=5)))
            rating_id += 1
            kind = rng.choices(["like", "dislike", "skip"], [0.45, 0.4, 0.15])[0]
            rows["interactions"].append((rating_id, u, post_id, kind, rated))
            if index >= TRAINING and rng.random() < EXPLAINED:  # asked why before rating it
                explanation_id += 1
                rows["explanations"].append((explanation_id, u, post_id, rng.choice(LEADS), rng.choice(SURFACES),
                                             rated - timedelta(minutes=1)))
        if u % 2 == 0:
            nudge_id += 1
            sent = NOW - timedelta(days=rng.uniform(0, 60))
            rows["nudges"].append((nudge_id, u, pool[0], "sent", 1, sent, sent))
    return rows


COLUMNS = {
    "users": "id, telegram_id, username, first_name, last_name, language, status, is_trained, bonus_channels_count, created_at, updated_at, last_activity_at",
    "channels": "id, telegram_id, username, title, is_default, created_at",
    "posts": "id, channel_id, telegram_message_id, text, media_type, posted_at, created_at",
    "user_channels": "id, user_id, channel_id, is_for_training, is_bonus, created_at",
    "interactions": "id, user_id, post_id, interaction_type, created_at",
    "chat_posts": "id, user_id, post_id, created_at",
    "user_logs": "id, user_id, action, details, created_at",
    "nudges": "id, user_id, post_id, status, message_id, created_at, sent_at",
    "experiment_assignments": "id, experiment_id, user_id, variant, assigned_at",
    "explanations": "id, user_id, post_id, lead, surface, created_at",
}
ORDER = ["users", "channels", "posts", "user_channels", "interactions", "chat_posts", "user_logs", "nudges",
         "explanations"]
EXPERIMENT = ("bench", '[{"name": "control", "weight": 1, "settings": {}}, {"name": "explore", "weight": 1, "settings": {"exploration": 0.2}}]')


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):  # SQLAlchemy's SQLite DateTime text format, in UTC
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def load_sqlite(path: str, rows: dict[str, list[tuple[Any, ...]]]) -> None:
    connection = sqlite3.connect(path)
    with connection:
        for table in ORDER:
            marks = ", ".join("?" for _ in COLUMNS[table].split(","))
            connection.executemany(f"INSERT INTO {table} ({COLUMNS[table]}) VALUES ({marks})",
                                   ([_sqlite_value(v) for v in row] for row in rows[table]))
        connection.execute("INSERT INTO experiments (id, name, variants, started_at, created_by, created_at) VALUES (1, ?, ?, ?, 'bench', ?)",
                           (EXPERIMENT[0], EXPERIMENT[1], _sqlite_value(NOW - timedelta(days=91)), _sqlite_value(NOW)))
        connection.executemany(f"INSERT INTO experiment_assignments ({COLUMNS['experiment_assignments']}) VALUES (?, ?, ?, ?, ?)",
                               ([_sqlite_value(v) for v in row] for row in rows["experiment_assignments"]))
    connection.execute("ANALYZE")
    connection.close()


async def load_postgres(url: str, rows: dict[str, list[tuple[Any, ...]]]) -> None:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        for table in ORDER:
            await connection.copy_records_to_table(table, records=rows[table], columns=[c.strip() for c in COLUMNS[table].split(",")])
        await connection.execute("INSERT INTO experiments (id, name, variants, started_at, created_by, created_at) VALUES (1, $1, $2, $3, 'bench', $4)",
                                 EXPERIMENT[0], EXPERIMENT[1], NOW - timedelta(days=91), NOW)
        await connection.copy_records_to_table("experiment_assignments", records=rows["experiment_assignments"],
                                               columns=[c.strip() for c in COLUMNS["experiment_assignments"].split(",")])
        for table in ORDER + ["experiments", "experiment_assignments"]:
            await connection.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


class RecordingDatabase:
    """Forwards to the real `databases.Database`, keeping the last statement run (for EXPLAIN)."""

    def __init__(self, database: Any) -> None:
        self._database = database
        self.statements: list[Any] = []

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._database, name)
        if name in {"fetch_all", "fetch_one", "fetch_val"}:
            async def recorded(query: Any, *args: Any, **kwargs: Any) -> Any:
                self.statements.append(query)
                return await attribute(query, *args, **kwargs)
            return recorded
        return attribute


def queries(store: Store, user_id: int) -> Iterator[tuple[str, Callable[[], Awaitable[Any]]]]:
    analytics = Analytics(store)
    experiments = Experiments(store)

    async def tallies() -> Any:
        return await experiments.tallies(await experiments.get(1))

    yield "funnel (by status, by logged stage)", analytics.funnel
    yield "per day, 30 days: actives, ratings, feed likes", lambda: analytics.daily(30)
    yield "active users in the last 7 days", lambda: analytics.active_since(7)
    yield "weekly active users, 8 weeks", lambda: analytics.active_users(56, "week")
    yield "like rate of feed posts, all time", analytics.like_rate
    yield "training completion and duration", analytics.training
    yield "nudges and returns within a day", analytics.nudges
    yield "channels: followers, posts, like rate", lambda: analytics.channels(None, 100)
    yield "reasons given, liked after asking, 30 days", lambda: analytics.reasons(30)
    yield "A/B results (tallies per variant)", tallies
    yield "a user's variant (lookup, assigned)", lambda: experiments.variant_for(user_id)


async def measure(async_url: str, runs: int, user_id: int) -> tuple[dict[str, float], dict[str, str]]:
    store = Store(async_url)
    await store.connect()
    timings: dict[str, float] = {}
    plans: dict[str, str] = {}
    try:
        for name, call in queries(store, user_id):
            seconds = []
            for _ in range(runs):
                started = time.perf_counter()
                await call()
                seconds.append(time.perf_counter() - started)
            timings[name] = statistics.median(seconds)
        original = store.database
        for wanted in ("per day, 30 days", "A/B results", "reasons given"):
            recorder = RecordingDatabase(original)
            store.database = recorder  # type: ignore[assignment]
            try:
                name, call = next((n, c) for n, c in queries(store, user_id) if n.startswith(wanted))
                await call()
            finally:
                store.database = original
            plans[name] = await explain(store, recorder.statements[-1])
    finally:
        await store.disconnect()
    return timings, plans


async def explain(store: Store, statement: Any) -> str:
    """The database's plan for `statement`, as it prints it."""
    if store.engine.name == "postgresql":
        from sqlalchemy.dialects.postgresql.asyncpg import dialect as pg_dialect

        dialect = pg_dialect()  # numbered $n parameters, as asyncpg takes them
    else:
        from sqlalchemy.dialects.sqlite.aiosqlite import dialect as sqlite_dialect

        dialect = sqlite_dialect()
    compiled = statement.compile(dialect=dialect)
    processors = compiled._bind_processors
    params = compiled.construct_params()
    values = []
    for key in compiled.positiontup or []:
        value = params[key]
        processor = processors.get(key)
        values.append(processor(value) if processor else value)
    async with store.session() as connection:
        raw = connection.raw_connection
        if store.engine.name == "postgresql":
            records = await raw.fetch("EXPLAIN " + str(compiled), *values)
            return "\n".join(record[0] for record in records)
        cursor = await raw.execute("EXPLAIN QUERY PLAN " + str(compiled), values)
        return "\n".join(str(row[-1]) for row in await cursor.fetchall())


def admin(admin_url: str, sql: str) -> None:
    import asyncpg

    async def run() -> None:
        connection = await asyncpg.connect(admin_url)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interactions", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--postgres-admin-url", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    started = time.perf_counter()
    rows = generate(args.users, args.interactions)
    print(f"generated {len(rows['interactions']):,} interactions, {len(rows['chat_posts']):,} feed posts sent, "
          f"{len(rows['users']):,} users, {len(rows['posts']):,} posts in {time.perf_counter() - started:.1f} s")
    backends: dict[str, str] = {"sqlite": f"sqlite:///{tempfile.mkdtemp()}/analytics.db"}
    database = f"ppb_bench_analytics_{uuid.uuid4().hex[:8]}"
    try:
        admin(args.postgres_admin_url, f'CREATE DATABASE "{database}"')
        backends["postgresql"] = f"{args.postgres_admin_url.rsplit('/', 1)[0]}/{database}"
    except Exception as error:  # noqa: BLE001 - the bench still runs on SQLite
        print(f"(PostgreSQL skipped: {error})")
    results: dict[str, tuple[dict[str, float], dict[str, str]]] = {}
    try:
        for backend, url in backends.items():
            settings = load_settings(DATABASE_URL=url)
            upgrade(settings.async_database_url)
            started = time.perf_counter()
            if backend == "sqlite":
                assert settings.sqlite_path is not None
                load_sqlite(str(settings.sqlite_path), rows)
            else:
                asyncio.run(load_postgres(url, rows))
            print(f"{backend}: loaded in {time.perf_counter() - started:.1f} s")
            results[backend] = asyncio.run(measure(settings.async_database_url, args.runs, args.users // 2))
    finally:
        shutil.rmtree(Path(backends["sqlite"].split(":///", 1)[1]).parent, ignore_errors=True)
        if "postgresql" in backends:
            admin(args.postgres_admin_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    names = list(next(iter(results.values()))[0])
    print(f"\nmedian of {args.runs} runs, milliseconds")
    print(f"{'query':44}" + "".join(f"{backend:>12}" for backend in results))
    for name in names:
        print(f"{name:44}" + "".join(f"{results[b][0][name] * 1000:12.1f}" for b in results))
    for backend, (_, plans) in results.items():
        for name, plan in plans.items():
            print(f"\n{backend} plan, {name}:\n{plan}")


if __name__ == "__main__":
    main()
