"""Waiting for SQLite's write lock while another process holds it: tried again every half
millisecond for a while, and only then with SQLite's own busy wait.

SQLite's busy handler sleeps 1, 2, 5, 10, 15, 20, 25 ms... between its tries, so with
several processes writing one file (the bot and the user shards of `ppb up`) a write that
found the lock taken went on sleeping for tens of milliseconds after it was free again.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

POLL_S = 0.0005
"""Between two tries while the lock is taken (the thread sleeps: no CPU, no GIL held)."""
POLL_FOR_S = 0.1
"""Tries at that pace for this long; then SQLite's own wait (a lock held that long is a
long transaction: sleeping in longer steps costs little there)."""


def busy(error: sqlite3.OperationalError) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    if code is None:
        return "locked" in str(error) or "busy" in str(error)
    return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def patiently(raw: sqlite3.Connection, attempt: Callable[[], T], timeout_ms: int, left_ms: int) -> T:
    """`attempt()` (a statement that does nothing when it finds the lock taken) until the
    lock is free: polled, then with `timeout_ms` of SQLite's wait; `raw`'s busy timeout is
    `left_ms` afterwards."""
    raw.execute("PRAGMA busy_timeout=0")
    try:
        deadline = time.monotonic() + POLL_FOR_S
        while True:
            try:
                return attempt()
            except sqlite3.OperationalError as error:
                if not busy(error):
                    raise
                if time.monotonic() >= deadline:
                    break
            time.sleep(POLL_S)
        raw.execute(f"PRAGMA busy_timeout={timeout_ms}")
        return attempt()
    finally:
        raw.execute(f"PRAGMA busy_timeout={left_ms}")
