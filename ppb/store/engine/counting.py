"""`CountingDatabase`: a `databases.Database` stand-in that counts the statements sent (for
the tests and benches that hold a path to a constant number of them)."""

from __future__ import annotations

from collections import Counter
from typing import Any

COUNTED = {"execute", "execute_many", "fetch_all", "fetch_one", "fetch_val"}


class CountingDatabase:
    """Forwards to the real database, counting the statements sent."""

    def __init__(self, database: Any) -> None:
        self._database = database
        self.counts: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._database, name)
        if name in COUNTED:
            async def counted(*args: Any, **kwargs: Any) -> Any:
                self.counts[name] += 1
                return await attribute(*args, **kwargs)
            return counted
        return attribute
