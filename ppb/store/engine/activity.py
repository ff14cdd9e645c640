"""When a rating last stamped a person's activity, per process: a person rating again within
`every` seconds is not stamped again (the users' `(status, last_activity_at)` index was
rewritten on every rating, a third of SQLite's work for it).

Retention reads `last_activity_at` in hours and days (quiet after `NUDGE_AFTER`, churned
after `CHURN_AFTER`, `every` at most a tenth of either), so a stamp up to `every` seconds
old changes nothing it decides: a person who rated lately cannot have been churned since.
The rater's status is still read on every rating, so a churned person's rating brings them
back at once. A stamp is remembered only once its transaction committed.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

REMEMBERED = 100_000
"""People remembered at most (the least recently stamped are forgotten: stamped again)."""


class ActivityStamps:
    def __init__(self, every: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.every = every
        self._clock = clock
        self._stamped: OrderedDict[int, float] = OrderedDict()

    def now(self) -> float:
        return self._clock()

    def due(self, telegram_id: int, now: float) -> bool:
        """Whether a rating at `now` stamps the person's activity."""
        last = self._stamped.get(telegram_id)
        return last is None or now - last >= self.every

    def stamped(self, telegram_id: int, now: float) -> None:
        """The stamp of a rating at `now` committed."""
        self._stamped[telegram_id] = now
        self._stamped.move_to_end(telegram_id)
        if len(self._stamped) > REMEMBERED:
            self._stamped.popitem(last=False)
