"""Two `ppb up` on one host, each with its own HAProxy ports and files; Ctrl+C to each
process group leaves nothing; a taken port is one line naming it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.ports import free_port
from tests.test_up import STARTUP_DEADLINE_S, processes_with_marker, wait_for

KEY = "instances-key-16chars"


@dataclass
class Instance:
    process: subprocess.Popen
    base: str
    marker: str
    workdir: Path

    def log(self) -> str:
        return (self.workdir / "up.log").read_text()[-3000:]


def start(tmp_path: Path, name: str) -> Instance:
    workdir = tmp_path / name
    workdir.mkdir()
    port = free_port()
    marker = uuid.uuid4().hex
    env = {
        **os.environ, "PPB_HTTP_PORT": str(port), "DATABASE_URL": f"sqlite:///{workdir / 'ppb.db'}",
        "PPB_API_KEY": KEY, "PPB_TEST_MARKER": marker,
    }
    for variable in list(env):
        if variable == "RAY_ADDRESS" or variable.startswith("RAY_SERVE_HAPROXY_"):
            env.pop(variable)
    with (workdir / "up.log").open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "ppb", "up"], env=env, cwd=workdir, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Instance(process, f"http://127.0.0.1:{port}", f"PPB_TEST_MARKER={marker}", workdir)


def ctrl_c(instance: Instance) -> None:
    """Ctrl+C in the instance's terminal: SIGINT to its process group."""
    if instance.process.poll() is None:
        os.killpg(instance.process.pid, signal.SIGINT)


def exit_code(instance: Instance) -> int:
    """The instance's exit code, once it has stopped (killed after 120 s)."""
    try:
        return instance.process.wait(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(instance.process.pid, signal.SIGKILL)
        raise


def ready(instance: Instance) -> bool:
    assert instance.process.poll() is None, instance.log()
    try:
        return httpx.get(f"{instance.base}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def up(instance: Instance) -> bool:
    """Whether `ppb up` has said it is up (its log shown when it stopped instead)."""
    assert instance.process.poll() is None, instance.log()
    return "PPB is up" in instance.log()


def haproxy_configs(instance: Instance) -> list[Path]:
    """The config files of the instance's HAProxy processes (from their command lines)."""
    found = []
    for pid in processes_with_marker(instance.marker):
        try:
            args = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
        except OSError:
            continue
        if Path(args[0]).name == "haproxy" and "-f" in args:
            found.append(Path(args[args.index("-f") + 1]))
    return found


def _edited_config(instance: Instance) -> tuple[Path, str] | None:
    """The instance's HAProxy config once the wrapper has edited it (loopback stats, quiet log)."""
    for config in haproxy_configs(instance):
        try:
            text = config.read_text()
        except OSError:
            continue
        if "bind *:" not in text and "option dontlog-normal" in text:
            return config, text
    return None


def test_two_instances_on_one_host_then_ctrl_c_to_each_group(tmp_path: Path) -> None:
    instances: list[Instance] = []
    try:
        for name in ("a", "b"):  # one after the other, as two people on one host would
            instance = start(tmp_path, name)
            instances.append(instance)
            wait_for(lambda: ready(instance), STARTUP_DEADLINE_S, f"{instance.base}/readyz")
            # /readyz answers before `ppb up` has waited for the parts: Ctrl+C after its line
            wait_for(lambda: up(instance), STARTUP_DEADLINE_S, "PPB is up")
        assert all(ready(instance) for instance in instances)
        configs = []
        for instance in instances:
            # Ray rewrites the config on a reload and its HAProxy start (the wrapper) edits it:
            # wait for a config as PPB's wrapper leaves it, rather than read one moment of it
            config, text = wait_for(lambda: _edited_config(instance), 30, "the instance's HAProxy config")
            assert "haproxy-serve" not in str(config)  # not Ray's one shared folder
            assert "bind *:" not in text and ":8404" not in text and ":9101" not in text, text
            # PPB_SERVE_ACCESS_LOG off: HAProxy logs only errors, and Serve's per-request
            # metrics line (to the metrics socket) is off; one thread per 4 cores
            assert "option dontlog-normal" in text and "metrics.sock" not in text, text
            assert f"nbthread {max(1, (os.cpu_count() or 1) // 4)}" in text, text
            configs.append(config)
            refused = httpx.post(f"{instance.base}/api/v1/users/", content=b"{}", headers={"X-API-Key": KEY,
                                 "Content-Type": "text/plain"})
            assert refused.status_code == 415 and refused.json()["status_code"] == 415  # through HAProxy too
        assert configs[0].parent.parent != configs[1].parent.parent
    finally:
        for instance in instances:  # both stop at once
            ctrl_c(instance)
        codes = [exit_code(instance) for instance in instances]
        for instance in instances:  # shown when the test fails, here or above
            print(f"--- {instance.workdir.name}/up.log (exit code {instance.process.returncode})\n{instance.log()}")
    assert codes == [0, 0]
    for instance in instances:
        wait_for(lambda: not processes_with_marker(instance.marker), 60, "every process of the instance to exit")
        assert not [path for path in configs if path.exists()], "the instance's HAProxy files are removed"


def test_ctrl_c_while_still_starting_exits_cleanly_and_leaves_nothing(tmp_path: Path) -> None:
    """Ctrl+C while Serve is deploying the application (Ray's calls cut short in the middle)."""
    instance = start(tmp_path, "early")
    try:
        wait_for(lambda: "Started Serve" in instance.log(), STARTUP_DEADLINE_S, "Serve to start")
        assert "PPB is up" not in instance.log()
    finally:
        ctrl_c(instance)
        code = exit_code(instance)
    print(instance.log())
    assert code == 0
    assert "PPB is stopping (it was still starting)" in instance.log()
    wait_for(lambda: not processes_with_marker(instance.marker), 60, "every process of the instance to exit")


def test_a_taken_port_is_reported_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        env = {**os.environ, "PPB_HTTP_PORT": str(port), "DATABASE_URL": f"sqlite:///{tmp_path / 'ppb.db'}"}
        env.pop("RAY_ADDRESS", None)
        result = subprocess.run(
            [sys.executable, "-m", "ppb", "up"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
        )
    assert result.returncode == 2, result.stderr[-2000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(port) in lines[0] and "taken" in lines[0], lines
    assert f"(pid {os.getpid()})" in lines[0]  # who holds it, when /proc tells
