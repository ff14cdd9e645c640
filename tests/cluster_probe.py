"""Asks a running cluster (RAY_ADDRESS) what the tests need to see, from a process of its own
(a driver cannot join two Rays): `python -m tests.cluster_probe state ID...` prints one JSON
line with each user's status, each chat's registry size and where the shards run;
`python -m tests.cluster_probe actors` the named actors of the namespace."""

from __future__ import annotations

import asyncio
import logging
import sys
import time

import orjson
import ray

from ppb.actors.parts import NAME
from ppb.actors.remote import ChatShards, ShardSet, UserShards
from ppb.compose.store import open_store
from ppb.config import Settings, load_settings


async def placements(shards: ShardSet) -> dict[int, str]:
    return {index: (await shards.call(index, "stats"))["node"] for index in range(shards.count)}


async def keeper_counts(settings: Settings, deadline_s: float = 120.0) -> None:
    """Wait until the `parts` keeper runs with these settings' shard counts (a new
    deployment's replicas hand it their settings as they start)."""
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            status = await ray.get_actor(NAME, namespace=settings.ray_namespace).status.remote()
            if (status["user_shards"], status["chat_shards"]) == (settings.user_shards, settings.chat_shards):
                return
        except ValueError:  # no keeper yet
            pass
        if time.monotonic() > deadline:
            raise TimeoutError("the parts keeper never took the new shard counts")
        await asyncio.sleep(0.25)


async def state(ids: list[int]) -> dict:
    settings = load_settings()
    await keeper_counts(settings)
    users, chats = UserShards(settings, open_store), ChatShards(settings)
    return {
        "statuses": [(await users.get(telegram_id))["status"] for telegram_id in ids],
        "registries": [len(await chats.get_messages(chat_id)) for chat_id in ids],
        "users": await placements(users.shards),
        "chats": await placements(chats.shards),
        "nodes": sorted(node["NodeID"] for node in ray.nodes() if node["Alive"]),
    }


def main(argv: list[str]) -> None:
    settings = load_settings()
    ray.init(address=settings.ray_address, namespace=settings.ray_namespace,
             logging_level=logging.WARNING, log_to_driver=False)
    if argv[0] == "state":
        result = asyncio.run(state([int(arg) for arg in argv[1:]]))
    else:
        result = sorted(
            actor["name"] for actor in ray.util.list_named_actors(all_namespaces=True)
            if actor["namespace"] == settings.ray_namespace
        )
    print("RESULT " + orjson.dumps(result, option=orjson.OPT_NON_STR_KEYS).decode(), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
