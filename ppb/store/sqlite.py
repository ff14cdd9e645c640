"""SQLite connections as PPB wants them: WAL-friendly durability and a busy timeout."""

from __future__ import annotations

import sqlite3
from typing import Any


class TunedConnection(sqlite3.Connection):
    """Every connection `databases` opens runs these pragmas first.

    synchronous=NORMAL in WAL mode keeps every committed write across a crash of the
    process (only a power loss can cost the last commits) and saves an fsync per write.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.execute("PRAGMA synchronous=NORMAL")
        self.execute("PRAGMA busy_timeout=30000")
        self.execute("PRAGMA foreign_keys=ON")
