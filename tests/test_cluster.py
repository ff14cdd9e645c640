"""The whole product on a real cluster, as operators run it: `ray start --head` (free ports,
a temp dir of its own), `ppb migrate`, `serve deploy` of the repo's deploy/serve.yaml with
only host and port changed. One cluster serves the module, in order: the sandbox bot answers
/start and a quiet trained user is nudged; `ppb status` shows the parts; with two Api replicas
`/metrics` sums both; a second node joins while the shard counts change, then leaves, and
nothing acknowledged is lost; `serve delete` takes the parts with it. The cluster is stopped
by its own processes."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
import pytest
import yaml

from tests.bot_helpers import Person, wait_for
from tests.conftest import POSTGRES_ADMIN_URL, REDIS_TEST_URL, repo_root
from tests.ports import free_port
from tests.test_metrics import histogram_order_problems
from ppb.reaper import marked
from tests.ray_cluster import SERVE, RayCluster, cluster_env

API_KEY = "cluster-test-api-key"
QUIET_S = 120
NUDGE_HEADER = "While you were away"


@dataclass
class Deployed:
    cluster: RayCluster
    base: str
    port: int
    database_url: str
    root: Path
    people: list[int] = field(default_factory=list)

    def config(self, api_replicas: int | None = None, env: dict[str, str] | None = None) -> Path:
        """deploy/serve.yaml with only host and port changed (and, when asked, the Api's
        replicas fixed and the application's environment set, as an operator would)."""
        config = yaml.safe_load((repo_root() / "deploy" / "serve.yaml").read_text())
        config["http_options"] = {"host": "127.0.0.1", "port": self.port}
        [app] = config["applications"]
        if env:
            app["runtime_env"] = {"env_vars": env}
        if api_replicas is not None:
            [api] = [d for d in app["deployments"] if d["name"] == "Api"]
            api.pop("autoscaling_config")
            api["num_replicas"] = api_replicas
        path = self.root / f"serve-{uuid.uuid4().hex[:6]}.yaml"
        path.write_text(yaml.safe_dump(config))
        return path

    def ppb(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """`python -m <args>` as an operator on the head runs it (RAY_ADDRESS set)."""
        return self.cluster.run(sys.executable, "-m", *args, env=env)

    def probe(self, *args: str, env: dict[str, str] | None = None) -> Any:
        done = self.ppb("tests.cluster_probe", *args, env=env)
        lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
        assert done.returncode == 0 and lines, done.stdout[-2000:] + done.stderr[-3000:]
        return orjson.loads(lines[-1].removeprefix("RESULT "))

    def status(self) -> dict[str, Any]:
        done = self.ppb("ppb", "status", "--json")
        assert done.stdout.strip(), done.stderr[-3000:]
        return orjson.loads(done.stdout)


def create_database() -> str:
    name = f"ppb_cluster_{uuid.uuid4().hex[:10]}"

    async def run() -> None:
        connection = await asyncpg.connect(POSTGRES_ADMIN_URL)
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()

    asyncio.run(run())
    return f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"


def drop_database(url: str) -> None:
    async def run() -> None:
        connection = await asyncpg.connect(POSTGRES_ADMIN_URL)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
        finally:
            await connection.close()

    asyncio.run(run())


def ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def wait_until(condition, deadline_s: float, what: str) -> Any:
    import time

    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out after {deadline_s} s waiting for {what}")


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    root = tmp_path_factory.mktemp("cluster")
    database_url = create_database()
    env = cluster_env(
        DATABASE_URL=database_url, REDIS_URL=REDIS_TEST_URL, PPB_API_KEY=API_KEY,
        PPB_DEMO_DATA="1", DEFAULT_CHANNELS="@ppb_demo_tech", POSTS_PER_CHANNEL="3",
        NUDGE_AFTER=str(QUIET_S), CHURN_AFTER="3600", NUDGE_CHECK_INTERVAL="1", PPB_NUDGE_DAILY_CAP="1",
        PPB_USER_SHARDS="2", PPB_CHAT_SHARDS="2", PPB_RAY_NAMESPACE="ppb",
    )
    env.pop("BOT_TOKEN", None)
    cluster = RayCluster(root, env)
    port = free_port()
    deployed = Deployed(cluster, f"http://127.0.0.1:{port}", port, database_url, root)
    try:
        migrated = deployed.ppb("ppb", "migrate")
        assert migrated.returncode == 0, migrated.stderr[-3000:]
        cluster.start_head(num_cpus=2)
        cluster.serve_deploy(deployed.config())
        wait_until(lambda: ready(deployed.base), 180, "the deployed application to answer /readyz")
        yield deployed
    finally:
        marks = [node.mark for node in cluster.nodes]
        cluster.stop()
        drop_database(database_url)
    assert marks and not [mark for mark in marks if marked(mark)]  # no process of it is left


def client(deployed: Deployed) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=deployed.base, headers={"X-API-Key": API_KEY}, timeout=30)


async def quiet_for(database_url: str, telegram_id: int, seconds: float) -> None:
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(
            "UPDATE users SET last_activity_at = $1 WHERE telegram_id = $2",
            datetime.now(UTC) - timedelta(seconds=seconds), telegram_id,
        )
    finally:
        await connection.close()


async def test_serve_deploy_answers_start_and_nudges_a_quiet_trained_user(deployed: Deployed, new_id) -> None:
    async with client(deployed) as http:
        person = Person(http, new_id())
        await person.say("/start")  # answered by the `bot` actor the Api replica started
        await person.wait_text("Hi, Ann", deadline_s=90)
        await person.tap("Start training")
        for number in range(1, 4):
            card = await person.wait_text(f"Post {number} of 3")
            await person.press(card["message_id"], next(
                b["callback_data"] for row in card["reply_markup"]["inline_keyboard"] for b in row if b["text"] == "👍"
            ))
        await person.wait_text("Training complete")
        deployed.people.append(person.user_id)

        await quiet_for(deployed.database_url, person.user_id, QUIET_S + 30)

        async def nudged() -> list[dict]:  # the `nudger` actor passes every second
            return [m for m in await person.bot_messages() if NUDGE_HEADER in (m["text"] or "")]

        [nudge] = await wait_for(nudged, 60, "the nudge in the quiet person's chat")
        assert any(b["text"] == "👍" for row in nudge["reply_markup"]["inline_keyboard"] for b in row)


def test_ppb_status_shows_the_parts(deployed: Deployed) -> None:
    status = deployed.status()
    app = status["applications"]["ppb"]
    assert app["status"] == "RUNNING"
    assert set(app["deployments"]) == {"Api", "Scorer"}
    assert status["bot"] == {"mode": "polling", "polling": True}
    assert status["nudger"]["last_pass"] is not None
    assert [shard["index"] for shard in status["shards"]["users"]] == [0, 1]
    assert sum(shard["active"] for shard in status["shards"]["users"]) >= 1  # the trained person
    assert status["metrics_targets"]
    text = deployed.ppb("ppb", "status")
    assert text.returncode == 0, text.stderr[-2000:]
    assert "application ppb: RUNNING" in text.stdout and "\nbot: polling (polling now)\n" in text.stdout
    assert "users shards (2): users-0:" in text.stdout


def _series(text: str, name: str, **labels: str) -> list[tuple[dict[str, str], float]]:
    from prometheus_client.parser import text_string_to_metric_families

    found = []
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                found.append((sample.labels, sample.value))
    return found


def test_metrics_are_summed_over_two_api_replicas(deployed: Deployed) -> None:
    deployed.cluster.serve_deploy(deployed.config(api_replicas=2))

    def two_running() -> bool:  # asked of the dashboard, as `serve status` does
        apps = deployed.cluster.dashboard_get("/api/serve/applications/")
        api = apps["applications"].get("ppb", {}).get("deployments", {}).get("Api", {})
        states = [replica["state"] for replica in api.get("replicas", [])]
        return states == ["RUNNING", "RUNNING"] and api.get("status") == "HEALTHY"

    wait_until(two_running, 120, "two running Api replicas")
    requests = 60

    async def load() -> list[int]:  # at once, so the router spreads them; a route nothing else asks for
        async with httpx.AsyncClient(base_url=deployed.base, timeout=30) as http:
            return [r.status_code for r in await asyncio.gather(*(http.get("/favicon.ico") for _ in range(requests)))]

    assert asyncio.run(load()) == [200] * requests

    def counted() -> float:
        text = httpx.get(f"{deployed.base}/metrics", timeout=10).text
        return sum(v for _, v in _series(text, "ppb_http_requests_total", route="/favicon.ico", status="200"))

    wait_until(lambda: counted() == requests, 30, f"/metrics to count all {requests} requests")
    # Ray's agent exports one series per process: both replicas answered some of them.
    agents = [httpx.get(f"http://{target}/metrics", timeout=10).text for target in deployed.status()["metrics_targets"]]
    per_worker = [(labels["WorkerId"], value) for text in agents for labels, value in
                  _series(text, "ray_ppb_http_requests_total", route="/favicon.ico", status="200")]
    assert len({worker for worker, value in per_worker if value > 0}) == 2
    assert sum(value for _, value in per_worker) == requests
    text = httpx.get(f"{deployed.base}/metrics", timeout=10).text
    assert _series(text, "ppb_bot_updates_total") and _series(text, "ppb_ratings_total", kind="like")
    assert _series(text, "ppb_nudges_total", outcome="nudged")
    assert _series(text, "ppb_http_request_seconds_bucket", route="/favicon.ico")
    assert histogram_order_problems(text) == []  # buckets in increasing le, as Prometheus reads them


def test_a_node_joins_while_the_shard_counts_change_and_leaves_losing_nothing(deployed: Deployed) -> None:
    people = deployed.people
    assert people, "the first test of the module trains the people this one checks"
    before = deployed.probe("state", *map(str, people))
    assert all(count >= 1 for count in before["registries"])  # the bot's menus, kept in Redis

    node = deployed.cluster.add_node(num_cpus=1)
    three = {"PPB_USER_SHARDS": "3", "PPB_CHAT_SHARDS": "3"}
    deployed.cluster.serve_deploy(deployed.config(api_replicas=2, env=three))

    # The probe waits until `parts` took the new counts from a new replica, then looks.
    spread = deployed.probe("state", *map(str, people), env=three)
    assert spread["statuses"] == before["statuses"] and spread["registries"] == before["registries"]
    assert len(spread["nodes"]) == 2
    assert len(set(spread["users"].values()) | set(spread["chats"].values())) == 2  # over both nodes

    deployed.cluster.remove_node(node)
    after = deployed.probe("state", *map(str, people), env=three)
    assert len(after["nodes"]) == 1
    assert set(after["users"].values()) | set(after["chats"].values()) == set(after["nodes"])
    assert after["statuses"] == before["statuses"] and after["registries"] == before["registries"]


def test_shutting_serve_down_stops_the_parts(deployed: Deployed) -> None:
    assert {"bot", "nudger", "outbox", "parts", "users-0", "chats-0"} <= set(deployed.probe("actors"))
    done = deployed.cluster.run(SERVE, "shutdown", "--address", deployed.cluster.dashboard, "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    wait_until(lambda: deployed.probe("actors") == [] or None, 60, "the parts to stop with the application")
