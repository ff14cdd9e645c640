"""One nudger pass over many users: the time it takes and the SQL statements it issues,
on SQLite and PostgreSQL, with 1% of the users due (quiet, trained, with unseen posts).

    python bench/retention.py [--users 100000] [--due-share 0.01] [--postgres-admin-url URL]

Delivery is a stand-in that only counts (Telegram is not what is measured); ranking runs
in process. Prints one table; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ppb.actors.nudger import Nudger, NudgerSettings  # noqa: E402
from ppb.actors.user_shard import UserShard  # noqa: E402
from ppb.config import load_settings  # noqa: E402
from ppb.core.scoring import Scoring  # noqa: E402
from ppb.store.engine.counting import CountingDatabase  # noqa: E402
from ppb.store.migrate import upgrade  # noqa: E402
from ppb.store.queries import NewPost, Store  # noqa: E402
from ppb.store.schema import user_channels, users  # noqa: E402

QUIET = 3600.0
TOPICS = ["rockets", "football", "interest rates", "jazz", "hiking", "chess", "bread", "cars"]


class OneAtATime:
    """The ranker without its batch path: each due user ranked alone (the nudger before
    batched ranking), to compare in the same run."""

    def __init__(self, inner: Scoring) -> None:
        self._inner = inner

    async def best(self, user_id: int, limit: int) -> list:
        return await self._inner.best(user_id, limit)


class CountingChat:
    def __init__(self) -> None:
        self.sent = 0

    async def send_nudge(self, telegram_id: int, language: str | None, post: dict) -> int:
        self.sent += 1
        return self.sent

    async def find_nudge(self, telegram_id: int, post_id: int) -> int | None:
        return None


async def populate(store: Store, count: int, due: int) -> None:
    now = datetime.now(UTC)
    first = 5 * 10**11 + uuid.uuid4().int % 10**8 * 1000
    channel = await store.upsert_channel(-1009990000000 - first % 10**6, None, "Bench news")
    await store.add_posts(
        channel["id"],
        [NewPost(n + 1, f"Story {n} about {TOPICS[n % 8]} and {TOPICS[(n * 3) % 8]}", "text",
                 now - timedelta(minutes=n)) for n in range(50)],
    )
    for start in range(0, count, 1000):
        rows = []
        for n in range(start, min(count, start + 1000)):
            is_due = n % (count // due) == 0
            rows.append({
                "telegram_id": first + n, "status": "active" if is_due or n % 3 else "trained",
                "is_trained": True, "bonus_channels_count": 0, "created_at": now, "updated_at": now,
                "last_activity_at": now - timedelta(seconds=QUIET * 2 if is_due else 60),
            })
        await store.database.execute(users.insert().values(rows))
    due_ids = await store.due_for_nudge(now, QUIET, 1, count)
    await store.database.execute(
        user_channels.insert().values(
            [{"user_id": u["id"], "channel_id": channel["id"], "is_for_training": True,
              "is_bonus": False, "created_at": now} for u in due_ids]
        )
    )


async def one_pass(database_url: str, count: int, due: int, batched: bool) -> tuple[float, Counter[str], int, float]:
    settings = load_settings(DATABASE_URL=database_url)
    store = Store(settings.async_database_url)
    await store.connect()
    started = time.perf_counter()
    await populate(store, count, due)
    populated = time.perf_counter() - started
    counting = CountingDatabase(store.database)
    store.database = counting  # type: ignore[assignment]
    chat = CountingChat()
    scoring = Scoring(store)
    nudger = Nudger(store, scoring if batched else OneAtATime(scoring), UserShard(store, 600), chat,
                    NudgerSettings(QUIET, 14 * 86400.0, 1, count))
    started = time.perf_counter()
    report = await nudger.run_pass()
    seconds = time.perf_counter() - started
    await store.disconnect()
    assert report.nudged == chat.sent
    return seconds, counting.counts, chat.sent, populated


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
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--due-share", type=float, default=0.01)
    parser.add_argument("--postgres-admin-url", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    due = max(1, int(args.users * args.due_share))
    backends = {"sqlite": f"sqlite:///{tempfile.mkdtemp()}/retention.db"}
    database = f"ppb_bench_{uuid.uuid4().hex[:8]}"
    try:
        admin(args.postgres_admin_url, f'CREATE DATABASE "{database}"')
        backends["postgresql"] = f"{args.postgres_admin_url.rsplit('/', 1)[0]}/{database}"
    except Exception as error:  # noqa: BLE001 - the bench still runs on SQLite
        print(f"(PostgreSQL skipped: {error})")
    print(f"one nudger pass over {args.users:,} users, {due:,} due ({args.due_share:.0%}):")
    print(f"  {'backend':<11} {'ranking':<12} {'pass s':>8} {'per due user':>13} {'statements':>11} {'per due user':>13} {'nudged':>7} {'vs alone':>9}")
    for backend, url in backends.items():
        upgrade(load_settings(DATABASE_URL=url).async_database_url)
        alone = None
        for batched in (False, True):  # each on a fresh set of users in the same database
            seconds, counts, sent, _ = asyncio.run(one_pass(url, args.users, due, batched))
            statements = sum(counts.values())
            alone = seconds if alone is None else alone
            print(f"  {backend:<11} {'batched' if batched else 'one by one':<12} {seconds:>8.2f} "
                  f"{seconds / max(sent, 1) * 1000:>10.1f} ms {statements:>11,} {statements / max(sent, 1):>13.1f} "
                  f"{sent:>7,} {alone / seconds:>8.1f}x", flush=True)
    if "postgresql" in backends:
        admin(args.postgres_admin_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


if __name__ == "__main__":
    main()
