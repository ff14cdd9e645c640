"""The whole OpenAPI document fuzzed with schemathesis against the running app on PostgreSQL:
valid and invalid requests for every operation, zero 5xx, every error in the documented shape.

The app runs as `ppb api --bare` (the same Starlette app Serve runs) in a process of its own,
on a free port and a database of its own. PPB_FUZZ_EXAMPLES bounds the examples per operation
and mode (default 60), so the run stays within a few minutes with 60-odd operations; its
timeout is its own (15 minutes), since a loaded machine runs it several times slower.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation.modes import GenerationMode

from ppb.config import load_settings
from ppb.http.miniapp_auth import miniapp_bot_token, sign_init_data
from tests.conftest import API_KEY, free_port, fresh_postgres

EXAMPLES = int(os.environ.get("PPB_FUZZ_EXAMPLES", "60"))
READY_DEADLINE_S = 120.0
NO_SCRAPER = "the scraper is not configured"


@dataclass
class Tally:
    probes: int = 0
    documented_503: int = 0
    server_errors: list[str] = field(default_factory=list)
    bad_shapes: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def running_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """`ppb api --bare` on PostgreSQL; yields its base URL and the Mini App's bot token."""
    workdir = tmp_path_factory.mktemp("fuzz")
    with fresh_postgres("ppb_fuzz") as url:
        port = free_port()
        env = {**os.environ, "DATABASE_URL": url, "PPB_API_KEY": API_KEY, "PPB_HTTP_PORT": str(port)}
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
            yield base, miniapp_bot_token(load_settings(DATABASE_URL=url, PPB_API_KEY=API_KEY))
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.close()


def _auth_headers(operation: schemathesis.APIOperation, token: str) -> dict[str, str]:
    schemes = {name for item in operation.definition.raw.get("security", []) for name in item}
    if "MiniApp" in schemes:
        user = {"id": 10**12 + uuid.uuid4().int % 10**9, "first_name": "Fuzz", "language_code": "en"}
        return {"Authorization": f"tma {sign_init_data(token, user)}"}
    return {"X-API-Key": API_KEY}


def _check(tally: Tally, label: str, response: httpx.Response | object) -> None:
    status = response.status_code  # type: ignore[attr-defined]
    tally.probes += 1
    if status == 503 and NO_SCRAPER in response.text:  # type: ignore[attr-defined]
        tally.documented_503 += 1  # the documented answer of cmd/* without a Telethon session
    elif status >= 500:
        tally.server_errors.append(f"{label} -> {status} {response.text[:200]}")  # type: ignore[attr-defined]
    if status >= 400:
        try:
            body = response.json()  # type: ignore[attr-defined]
        except ValueError:
            body = None
        if not (isinstance(body, dict) and set(body) == {"detail", "status_code"} and body["status_code"] == status
                and isinstance(body["detail"], str) and body["detail"]):
            tally.bad_shapes.append(f"{label} -> {status} {response.text[:200]}")  # type: ignore[attr-defined]


@pytest.mark.timeout(900)
def test_the_whole_openapi_document_gives_no_5xx(running_app: tuple[str, str]) -> None:
    base, token = running_app
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    tally = Tally()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            label = f"{operation.method.upper()} {operation.path} ({mode.value})"

            @settings(
                max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def probe(case: schemathesis.Case) -> None:
                response = case.call(base_url=base, headers=_auth_headers(operation, token), timeout=30)
                _check(tally, label, response)

            try:
                probe()
            except Unsatisfiable:  # nothing to make invalid (no parameters, no body)
                continue
    print(f"\nschemathesis: {tally.probes} probes over {len(operations)} operations; "
          f"{len(tally.server_errors)} 5xx; {len(tally.bad_shapes)} errors out of shape; "
          f"{tally.documented_503} documented 503s (no scraper configured)")
    for line in tally.server_errors + tally.bad_shapes:
        print(line)
    assert tally.server_errors == []
    assert tally.bad_shapes == []
    assert tally.probes >= len(operations) * 2
