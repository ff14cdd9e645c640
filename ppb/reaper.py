"""What `ppb up` started, found again by a mark in its environment, so a stop leaves nothing.

Every process Ray starts for this instance inherits `PPB_INSTANCE`; one that outlives the
stop (an HAProxy whose actor was killed before it could stop it, say) is ended by pid.
Linux only (it reads /proc); elsewhere it finds nothing.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from pathlib import Path

VARIABLE = "PPB_INSTANCE"


def mark_instance() -> str:
    """Give this process (and so every process it starts) an instance mark of its own."""
    mark = f"{uuid.uuid4().hex}"
    os.environ[VARIABLE] = mark
    return mark


def marked(mark: str) -> list[int]:
    """Pids of the processes carrying `mark`, except this one."""
    needle = f"{VARIABLE}={mark}".encode()
    found = []
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else ():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def reap(mark: str, grace_s: float = 3.0) -> list[int]:
    """SIGTERM every process left with `mark`, SIGKILL what is still there after `grace_s`;
    returns the pids that had to be ended."""
    left = marked(mark)
    for pid in left:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and marked(mark):
        time.sleep(0.1)
    for pid in marked(mark):
        _signal(pid, signal.SIGKILL)
    return left


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except (ProcessLookupError, PermissionError):
        pass
