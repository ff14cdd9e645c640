"""A two-worker Ray cluster (`ray.cluster_utils.Cluster`) in its own process: shards spread
over the nodes, one node is removed, and its shards come back on the others with their
state. Run by tests/test_multinode.py; prints one JSON line with what it saw."""

from __future__ import annotations

import asyncio
import sys
import time
import uuid

import orjson
import ray
from ray.cluster_utils import Cluster

from ppb.actors.remote import ChatShards, ShardSet, UserShards
from ppb.compose.store import open_store
from ppb.config import load_settings
from ppb.domain.messages import ManagedMessage, MessageType
from ppb.domain.status import UserEvent
from ppb.store.queries import Store

DEADLINE_S = 120.0


async def placements(shards: ShardSet) -> dict[int, str]:
    return {index: (await shards.call(index, "stats"))["node"] for index in range(shards.count)}


async def scenario(database_url: str, redis_url: str, cluster: Cluster) -> dict:
    settings = load_settings(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        PPB_RAY_NAMESPACE=f"ppb-multinode-{uuid.uuid4().hex[:8]}",
        PPB_USER_SHARDS=4,
        PPB_CHAT_SHARDS=4,
    )
    store = Store(settings.async_database_url)
    await store.connect()
    users, chats = UserShards(settings, open_store), ChatShards(settings)
    user_ids = [10**12 + uuid.uuid4().int % 10**9 * 100 + n for n in range(40)]
    for telegram_id in user_ids:
        await store.upsert_user(telegram_id, None, None, None)
        await users.apply(telegram_id, UserEvent.START, None)
    for chat_id in user_ids:
        await chats.register(ManagedMessage(chat_id, 1, MessageType.SYSTEM, "menu"))

    before = {"users": await placements(users.shards), "chats": await placements(chats.shards)}
    workers = {node.node_id: node for node in cluster.worker_nodes}
    hosting = [node for node in set(before["users"].values()) | set(before["chats"].values()) if node in workers]
    victim = max(hosting, key=lambda node: sum(
        node == placed for kind in before.values() for placed in kind.values()
    ))
    cluster.remove_node(workers[victim])

    started = time.monotonic()
    for telegram_id in user_ids:  # every user keeps working, through restarted shards
        await users.apply(telegram_id, UserEvent.START_TRAINING, None)
    statuses = [(await users.get(telegram_id))["status"] for telegram_id in user_ids]
    menus = [len(await chats.get_messages(chat_id, MessageType.SYSTEM, "menu")) for chat_id in user_ids]
    recovered_in = time.monotonic() - started
    after = {"users": await placements(users.shards), "chats": await placements(chats.shards)}
    await store.disconnect()
    users.shards.kill_all()
    chats.shards.kill_all()
    return {
        "nodes_before": sorted({n for kind in before.values() for n in kind.values()}),
        "victim": victim,
        "moved": sum(before[k][i] == victim for k in before for i in before[k]),
        "nodes_after": sorted({n for kind in after.values() for n in kind.values()}),
        "statuses": sorted(set(statuses)),
        "menus": sorted(set(menus)),
        "recovered_in_s": round(recovered_in, 2),
    }


def main() -> None:
    database_url, redis_url = sys.argv[1], sys.argv[2]
    cluster = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 1, "include_dashboard": False},
    )
    for _ in range(2):
        cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, namespace="ppb", log_to_driver=False)
    try:
        result = asyncio.run(asyncio.wait_for(scenario(database_url, redis_url, cluster), DEADLINE_S))
    finally:
        ray.shutdown()
        cluster.shutdown()
    print("RESULT " + orjson.dumps(result).decode(), flush=True)


if __name__ == "__main__":
    main()
