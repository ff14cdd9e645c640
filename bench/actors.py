"""Shard throughput and memory: transitions/s and registry operations/s through the shard
actors, single calls and batched, beside the same work done in process (no actor); and
the memory one idle user costs in a user shard, measured over 100k users.

    python bench/actors.py [--users 2000] [--idle-users 100000] [--postgres URL] [--redis URL]

Prints tables of figures measured side by side in one run; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import ray

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ppb.actors.chat_shard import ChatShard  # noqa: E402
from ppb.actors.chat_state import MemoryChatState, RedisChatState  # noqa: E402
from ppb.actors.remote import ChatShards, UserShards  # noqa: E402
from ppb.actors.user_shard import EventRequest, UserShard  # noqa: E402
from ppb.compose.store import open_store  # noqa: E402
from ppb.config import Settings, load_settings  # noqa: E402
from ppb.domain.messages import ManagedMessage, MessageType  # noqa: E402
from ppb.domain.status import UserEvent  # noqa: E402
from ppb.store.migrate import upgrade  # noqa: E402
from ppb.store.queries import Store  # noqa: E402
from ppb.store.schema import users  # noqa: E402

CONCURRENCY = 32
BATCH = 200


async def create_users(store: Store, first_id: int, count: int) -> list[int]:
    now = datetime.now(UTC)
    ids = list(range(first_id, first_id + count))
    for start in range(0, count, 500):
        await store.database.execute(
            users.insert().values(
                [
                    {"telegram_id": telegram_id, "status": "new", "is_trained": False,
                     "bonus_channels_count": 0, "created_at": now, "updated_at": now,
                     "last_activity_at": now}
                    for telegram_id in ids[start : start + 500]
                ]
            )
        )
    return ids


async def timed_pool(work: Sequence[Callable[[], Awaitable[object]]], concurrency: int) -> float:
    """Seconds to run every piece of work, `concurrency` at a time."""
    queue = list(reversed(work))

    async def worker() -> None:
        while queue:
            await queue.pop()()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def row(name: str, count: int, seconds: float, baseline: float | None) -> str:
    rate = count / seconds
    ratio = f"{rate / baseline:6.2f}x" if baseline else "     - "
    return f"  {name:<44} {rate:>10,.0f}/s  {ratio}"


class OneByOne:
    """The store without its batch write: a shard then writes each transition alone (as
    before transitions were batched), for comparison in the same run."""

    def __init__(self, store: Store) -> None:
        self.get_user = store.get_user
        self.apply_event = store.apply_event


async def transitions(settings: Settings, store: Store, count: int, first_id: int) -> list[str]:
    cohorts = [await create_users(store, first_id + n * count, count) for n in range(5)]
    shards = UserShards(settings, open_store)
    await shards.get(cohorts[1][0])  # the shards are up before the clock starts
    in_process = await timed_pool(
        [lambda t=t: store.apply_event(t, UserEvent.START) for t in cohorts[0]], CONCURRENCY
    )
    single = await timed_pool(
        [lambda t=t: shards.apply(t, UserEvent.START, None) for t in cohorts[1]], CONCURRENCY
    )
    batches = [cohorts[2][i : i + BATCH] for i in range(0, count, BATCH)]
    batched = await timed_pool(
        [lambda b=b: shards.apply_many([EventRequest(t, UserEvent.START) for t in b]) for b in batches],
        4,
    )
    shard_batches = [[cohorts[n][i : i + BATCH] for i in range(0, count, BATCH)] for n in (3, 4)]
    alone, together = UserShard(OneByOne(store), 600), UserShard(store, 600)  # type: ignore[arg-type]
    before = await timed_pool(
        [lambda b=b: alone.apply_many([EventRequest(t, UserEvent.START) for t in b]) for b in shard_batches[0]], 4
    )
    after = await timed_pool(
        [lambda b=b: together.apply_many([EventRequest(t, UserEvent.START) for t in b]) for b in shard_batches[1]], 4
    )
    base = count / in_process
    return [
        f"transitions (new -> onboarding, {count} users, written to {store.engine.name}):",
        row("in process: Store.apply_event", count, in_process, None),
        row(f"in process: UserShard.apply_many, {BATCH}, one write each", count, before, base),
        row(f"in process: UserShard.apply_many, {BATCH}, one write per batch", count, after, base),
        row(f"through users-<k>: apply, {CONCURRENCY} in flight", count, single, base),
        row(f"through users-<k>: apply_many, batches of {BATCH}", count, batched, base),
    ]


async def registry(settings: Settings, count: int, first_chat: int) -> list[str]:
    label = "Redis" if settings.redis_url_value else "memory"
    local = ChatShard(RedisChatState(settings.redis_url_value, f"bench-{uuid.uuid4().hex[:6]}")
                      if settings.redis_url_value else MemoryChatState())
    shards = ChatShards(settings)
    chats = [first_chat + n for n in range(100)]

    def messages(offset: int) -> list[ManagedMessage]:
        return [ManagedMessage(chats[n % 100], offset + n, MessageType.ONETIME) for n in range(count)]

    await shards.get_messages(chats[0])
    in_process = await timed_pool([lambda m=m: local.register(m) for m in messages(0)], CONCURRENCY)
    single = await timed_pool([lambda m=m: shards.register(m) for m in messages(10**6)], CONCURRENCY)
    sent = messages(2 * 10**6)
    batches = [sent[i : i + BATCH] for i in range(0, count, BATCH)]
    batched = await timed_pool([lambda b=b: shards.register_many(b) for b in batches], 4)
    reads = await timed_pool(
        [lambda c=c: shards.get_messages(c, MessageType.ONETIME) for c in chats * (count // 100)],
        CONCURRENCY,
    )
    base = count / in_process
    return [
        f"registry (register, {count} messages over 100 chats, state in {label}):",
        row("in process: ChatShard.register", count, in_process, None),
        row(f"through chats-<k>: register, {CONCURRENCY} in flight", count, single, base),
        row(f"through chats-<k>: register_many, batches of {BATCH}", count, batched, base),
        row(f"through chats-<k>: get_messages, {CONCURRENCY} in flight", count, reads, base),
    ]


async def idle_memory(settings: Settings, store: Store, count: int, first_id: int) -> list[str]:
    one_shard = settings.model_copy(update={"user_shards": 1})
    shards = UserShards(one_shard, open_store)
    ids = await create_users(store, first_id, count)
    await shards.get(ids[0])
    pid = (await shards.shards.call(0, "stats"))["pid"]
    before = rss_bytes(pid)
    for start in range(0, count, 1000):
        await shards.get_many(ids[start : start + 1000])
    active = (await shards.shards.call(0, "stats"))["active"]
    after = rss_bytes(pid)
    return [
        f"memory of idle users held in one user shard ({active:,} users active):",
        f"  shard process RSS {before / 2**20:,.0f} MiB -> {after / 2**20:,.0f} MiB: "
        f"{(after - before) / count:,.0f} bytes per user",
    ]


async def run(args: argparse.Namespace, base: dict[str, object]) -> None:
    settings = load_settings(**base, PPB_RAY_NAMESPACE=f"bench-{uuid.uuid4().hex[:8]}")
    store = Store(settings.async_database_url)
    await store.connect()
    first = 7 * 10**11 + uuid.uuid4().int % 10**8 * 1000
    lines = [f"PPB shard bench: {args.shards} user and {args.shards} chat shards, {os.cpu_count()} CPUs"]
    lines += await transitions(settings, store, args.users, first)
    lines += await registry(settings, args.users, first)
    if args.redis:
        with_redis = load_settings(**base, REDIS_URL=args.redis,
                                   PPB_RAY_NAMESPACE=f"bench-{uuid.uuid4().hex[:8]}")
        lines += await registry(with_redis, args.users, first + 10**6)
    lines += await idle_memory(settings, store, args.idle_users, first + 10 * args.users)
    await store.disconnect()
    print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--idle-users", type=int, default=100_000)
    parser.add_argument("--shards", type=int, default=2)
    parser.add_argument("--postgres", help="postgresql://… database to use instead of SQLite")
    parser.add_argument("--redis", help="redis://… for the registry figures with Redis state")
    args = parser.parse_args()
    database_url = args.postgres or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    base = dict(DATABASE_URL=database_url, PPB_USER_SHARDS=args.shards, PPB_CHAT_SHARDS=args.shards)
    upgrade(load_settings(**base).async_database_url)
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        asyncio.run(run(args, base))
    finally:
        ray.shutdown()


if __name__ == "__main__":
    main()
