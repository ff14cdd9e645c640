"""`ppb up` end to end in a subprocess: ready, one call, a clean stop with nothing left."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.ports import free_port

STARTUP_DEADLINE_S = 240


def processes_with_marker(marker: str) -> list[int]:
    """Pids whose environment carries `marker`: everything `ppb up` started inherits it."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker.encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def wait_for(condition, deadline_s: float, what: str):
    """Poll `condition` until it gives something truthy, and return that."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def check_status_as_printed(log: Path, env: dict[str, str]) -> None:
    """`RAY_ADDRESS=<printed> ppb status` answers with no warning about Ray's token (the
    address named explicitly, where Ray sends no token by itself), and every metrics address
    it prints opens."""
    [command] = re.findall(r"\((RAY_ADDRESS=\S+) ppb status\)", log.read_text())
    status_env = {**env, "RAY_ADDRESS": command.split("=", 1)[1]}
    status_env.pop("RAY_AUTH_MODE", None)
    result = subprocess.run([sys.executable, "-m", "ppb", "status"], env=status_env, capture_output=True, text=True,
                            timeout=120)
    said = result.stdout + result.stderr
    assert result.returncode == 0, said[-3000:]
    assert "Token authentication" not in said and "WARNING" not in said, said
    [metrics] = [line for line in result.stdout.splitlines() if line.startswith("metrics: ")]
    urls = re.findall(r"(http://\S+/metrics)", metrics)
    assert len(urls) >= 2 and "not answering" not in metrics, metrics
    for url in urls:
        assert httpx.get(url, timeout=10).status_code == 200, url


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_up_serves_and_stops_cleanly(tmp_path: Path, stop_signal: signal.Signals) -> None:
    """The signal goes to the whole process group: Ray's own processes get it too."""
    port = free_port()
    marker = f"PPB_TEST_MARKER={uuid.uuid4().hex}"
    env = {
        **os.environ,
        "PPB_HTTP_PORT": str(port),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'ppb.db'}",
        "PPB_API_KEY": "up-key",
        marker.split("=")[0]: marker.split("=")[1],
    }
    env.pop("RAY_ADDRESS", None)
    log = (tmp_path / "up.log").open("w")
    process = subprocess.Popen(  # a process group of its own, as a shell job or a systemd unit
        [sys.executable, "-m", "ppb", "up"], env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        def ready() -> bool:
            assert process.poll() is None, (tmp_path / "up.log").read_text()[-3000:]
            try:
                return httpx.get(f"{base}/readyz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(ready, STARTUP_DEADLINE_S, "/readyz")
        created = httpx.post(
            f"{base}/api/v1/users/", json={"telegram_id": 42, "username": "up"}, headers={"X-API-Key": "up-key"}
        )
        assert created.status_code == 201, created.text
        assert created.json()["status"] == "new"
        moved = httpx.post(  # through the user shards the Api deployment routes to
            f"{base}/api/v1/users/42/events", json={"event": "start"}, headers={"X-API-Key": "up-key"}
        )
        assert moved.status_code == 200, moved.text
        assert moved.json()["status"] == "onboarding"
        assert processes_with_marker(marker), "expected Ray processes while up"
        wait_for(lambda: "PPB is up" in (tmp_path / "up.log").read_text(), 60, "PPB is up")
        [dashboard] = re.findall(r"Ray dashboard: (http://127\.0\.0\.1:\d+)/", (tmp_path / "up.log").read_text())
        assert httpx.get(f"{dashboard}/api/gcs_healthz", timeout=10).status_code == 200  # on loopback only
        if stop_signal == signal.SIGTERM:  # once is enough: `ppb status` as the start-up lines tell
            check_status_as_printed(tmp_path / "up.log", env)
    finally:
        os.killpg(process.pid, stop_signal)  # the whole group, as Ctrl+C or `kill -TERM -- -PGID` does
        try:
            code = process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
        log.close()
    assert code == 0, (tmp_path / "up.log").read_text()[-3000:]
    wait_for(lambda: not processes_with_marker(marker), 60, "every started process to exit")
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{base}/healthz", timeout=2)
