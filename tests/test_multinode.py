"""Shards on a multi-node Ray cluster: a node dies, its shards come back elsewhere, with state."""

from __future__ import annotations

import subprocess
import sys

import orjson

from tests.conftest import REDIS_TEST_URL, repo_root


def test_a_removed_node_takes_no_state_with_it(database_url: str) -> None:
    # Its own process: a Cluster cannot share a driver with the suite's Ray.
    done = subprocess.run(
        [sys.executable, "-m", "tests.multinode_scenario", database_url, REDIS_TEST_URL],
        cwd=repo_root(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert done.returncode == 0 and lines, done.stdout[-3000:] + done.stderr[-3000:]
    result = orjson.loads(lines[-1].removeprefix("RESULT "))
    print(result)
    assert len(result["nodes_before"]) >= 2  # the shards were spread over nodes
    assert result["moved"] >= 1
    assert result["victim"] not in result["nodes_after"]  # they run elsewhere now
    assert result["statuses"] == ["training"]  # every user moved on after the node died
    assert result["menus"] == [1]  # every chat's registry came back from Redis
