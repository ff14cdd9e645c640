"""A real Ray cluster as operators start it: `ray start --head` on free ports with a temp
dir of its own, more nodes by `ray start --address`, each stopped by its own processes (found
by a mark in their environment), never by `ray stop`, which stops every Ray on the host."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from ppb.reaper import VARIABLE, marked, reap
from tests.ports import free_port

RAY = str(Path(sys.executable).with_name("ray"))
SERVE = str(Path(sys.executable).with_name("serve"))


def _worker_ports() -> tuple[int, int]:
    """A range of 60 ports for a node's workers (Ray takes them as it needs them)."""
    low = random.randrange(20000, 29000, 100)
    return low, low + 59


@dataclass
class RayNode:
    """One `ray start` and every process it left running, by the mark they inherit."""

    mark: str
    metrics_port: int
    log: Path

    def pids(self) -> list[int]:
        return marked(self.mark)

    def stop(self) -> list[int]:
        return reap(self.mark, grace_s=5.0)


@dataclass
class RayCluster:
    root: Path
    env: dict[str, str]
    gcs_port: int = field(default_factory=free_port)
    dashboard_port: int = field(default_factory=free_port)
    nodes: list[RayNode] = field(default_factory=list)
    temp_dirs: list[Path] = field(default_factory=list)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.gcs_port}"

    @property
    def dashboard(self) -> str:
        return f"http://127.0.0.1:{self.dashboard_port}"

    def dashboard_get(self, path: str) -> Any:
        """A call to the dashboard's REST API, with the cluster's token."""
        headers = {"Authorization": f"Bearer {self.env['RAY_AUTH_TOKEN']}"}
        response = httpx.get(f"{self.dashboard}{path}", headers=headers, timeout=10)
        response.raise_for_status()
        return response.json()

    def _start(self, args: list[str], num_cpus: int) -> RayNode:
        mark = uuid.uuid4().hex
        low, high = _worker_ports()
        metrics_port = free_port()
        log = self.root / f"ray-start-{len(self.nodes)}.log"
        command = [
            RAY, "start", *args, f"--num-cpus={num_cpus}", "--disable-usage-stats",
            f"--node-manager-port={free_port()}", f"--object-manager-port={free_port()}",
            f"--metrics-export-port={metrics_port}", f"--dashboard-agent-listen-port={free_port()}",
            f"--dashboard-agent-grpc-port={free_port()}", f"--runtime-env-agent-port={free_port()}",
            f"--min-worker-port={low}", f"--max-worker-port={high}",
        ]
        with log.open("w") as out:
            done = subprocess.run(command, env={**self.env, VARIABLE: mark}, stdout=out,
                                  stderr=subprocess.STDOUT, timeout=120)
        node = RayNode(mark, metrics_port, log)
        if done.returncode != 0:
            node.stop()
            raise AssertionError(f"ray start failed: {log.read_text()[-3000:]}")
        self.nodes.append(node)
        return node

    def start_head(self, num_cpus: int = 2) -> RayNode:
        # Short, since Ray's Unix socket paths under it are limited to 107 bytes.
        temp = Path(tempfile.mkdtemp(prefix="ppbc-", dir="/tmp"))
        self.temp_dirs.append(temp)
        return self._start([
            "--head", f"--port={self.gcs_port}", f"--temp-dir={temp}", "--node-ip-address=127.0.0.1",
            "--include-dashboard=true", "--dashboard-host=127.0.0.1", f"--dashboard-port={self.dashboard_port}",
            f"--ray-client-server-port={free_port()}",
        ], num_cpus)

    def add_node(self, num_cpus: int = 1) -> RayNode:
        return self._start([f"--address={self.address}", "--node-ip-address=127.0.0.1"], num_cpus)

    def remove_node(self, node: RayNode) -> None:
        node.stop()
        self.nodes.remove(node)

    def stop(self) -> list[int]:
        """Every node, the last joined first; returns the pids that were ended."""
        ended: list[int] = []
        for node in reversed(self.nodes):
            ended += node.stop()
        self.nodes.clear()
        for temp in self.temp_dirs:
            shutil.rmtree(temp, ignore_errors=True)
        return ended

    def run(self, *args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """A command as an operator on the head runs it (RAY_ADDRESS pointing at this cluster),
        from the repository's root."""
        env = {**self.env, "RAY_ADDRESS": self.address, **(env or {})}
        return subprocess.run(list(args), env=env, capture_output=True, text=True, timeout=timeout,
                              cwd=Path(__file__).resolve().parent.parent)

    def serve_deploy(self, config: Path) -> subprocess.CompletedProcess[str]:
        done = self.run(SERVE, "deploy", "--address", self.dashboard, str(config))
        assert done.returncode == 0, done.stdout + done.stderr
        return done


def cluster_env(**settings: str) -> dict[str, str]:
    """The environment `ray start` passes to every process of the cluster (how replicas and
    actors read their settings on a cluster); no RAY_ADDRESS of the test session's."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("RAY_")}
    env.update(settings)
    env["RAY_metrics_report_interval_ms"] = "1000"  # metrics exported each second, not each 10
    # Ray's token authentication with a token of the cluster's own: whether a token file in the
    # home folder (which Ray writes for any local cluster) exists must not change the test.
    env["RAY_AUTH_MODE"] = "token"
    env["RAY_AUTH_TOKEN"] = uuid.uuid4().hex + uuid.uuid4().hex
    return env
