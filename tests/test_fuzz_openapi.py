"""Schemathesis against the running app on PostgreSQL, with every check and every phase:
the OpenAPI document tells the truth (schema-valid requests are accepted, invalid ones
refused, every status and header as documented), and nothing answers 5xx.

`st run` (schemathesis' own CLI, as an integrator would run it) in a process of its own,
against `ppb api --bare` (the same Starlette app Serve runs) on a free port and a database of
its own. Phases: examples (the schema's), coverage (each constraint's edges), fuzzing and
stateful (chains along the document's links: a user created, then their training, feed,
rules, block...). Checks: all of schemathesis' and one of ours, every error in the
documented shape (tests/schemathesis_hooks.py, which also signs the Mini App's calls).

PPB_FUZZ_EXAMPLES bounds the cases per operation and phase (default 25: about two minutes
here), PPB_FUZZ_SEED picks the seed (fixed, so a run can be replayed). One worker: threads
generating in parallel trip CPython 3.11's parser in hypothesis' reprs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import API_KEY, fresh_postgres, repo_root
from tests.ports import free_port

EXAMPLES = int(os.environ.get("PPB_FUZZ_EXAMPLES", "25"))
SEED = os.environ.get("PPB_FUZZ_SEED", "1")
READY_DEADLINE_S = 120.0
PHASES = ("Examples", "Coverage", "Fuzzing", "Stateful")


@pytest.fixture(scope="module")
def running_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """`ppb api --bare` on PostgreSQL; yields its base URL and the settings it runs with."""
    workdir = tmp_path_factory.mktemp("fuzz")
    with fresh_postgres("ppb_fuzz") as url:
        port = free_port()
        settings = {"DATABASE_URL": url, "PPB_API_KEY": API_KEY}
        env = {**os.environ, **settings, "PPB_HTTP_PORT": str(port)}
        log = (workdir / "api.log").open("w")
        process = subprocess.Popen(
            [sys.executable, "-m", "ppb", "api", "--bare"], env=env, cwd=workdir, stdout=log, stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + READY_DEADLINE_S
            while True:
                assert process.poll() is None, (workdir / "api.log").read_text()[-3000:]
                try:
                    if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "the app did not become ready"
                time.sleep(0.1)
            yield base, settings
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.close()


def st_run(base: str, settings: dict[str, str], reports: Path) -> subprocess.CompletedProcess[str]:
    root = repo_root()
    command = [
        sys.executable, "-m", "schemathesis.cli", "--config-file", str(root / "tests" / "schemathesis.toml"),
        "run", f"{base}/openapi.json", "--checks", "all", "--phases", "examples,coverage,fuzzing,stateful",
        "--max-examples", str(EXAMPLES), "--seed", SEED, "--workers", "1", "--generation-database", "none",
        "--no-color", "-H", f"X-API-Key: {API_KEY}", "--report", "ndjson", "--report-dir", str(reports),
    ]
    env = {**os.environ, **settings, "SCHEMATHESIS_HOOKS": "tests.schemathesis_hooks", "PYTHONPATH": str(root)}
    return subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=840)


@pytest.mark.timeout(900)
def test_schemathesis_with_every_check_and_phase_finds_nothing(running_app: tuple[str, dict[str, str]],
                                                              tmp_path: Path) -> None:
    base, settings = running_app
    result = st_run(base, settings, tmp_path)
    output = result.stdout + result.stderr
    summary = output[output.find("= SUMMARY ="):]
    print(summary)
    assert result.returncode == 0, output[-12000:]
    assert "Failures:" not in summary and "Errors:" not in summary, summary
    for phase in PHASES:  # each ran and passed (none skipped for want of cases)
        assert f"✅ {phase}" in summary, summary
    events = "".join(path.read_text() for path in tmp_path.glob("*.ndjson"))
    assert "errors_in_the_documented_shape" in events, "our own check ran too"
