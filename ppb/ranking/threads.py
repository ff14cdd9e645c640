"""How many threads numpy's BLAS runs a ranking process's products on.

A feed call's products are small (10,000 rows by a few hundred columns): a second BLAS
thread measured no faster per call while doubling its CPU, which on a loaded machine is
CPU taken from the other requests. The limit holds for the whole process.
"""

from __future__ import annotations

_limits: object | None = None


def limit_blas_threads(threads: int) -> None:
    """At most `threads` BLAS threads in this process from now on (idempotent)."""
    global _limits
    from threadpoolctl import threadpool_limits

    _limits = threadpool_limits(limits=threads, user_api="blas")
