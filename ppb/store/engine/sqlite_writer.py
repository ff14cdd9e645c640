"""Group commit on SQLite: the writes queued over two turns of the event loop run in one
transaction, and each caller is answered after the COMMIT, so nothing is acknowledged before
it is durable, and a burst of small writes costs one commit, not one each.

Why two turns: a request reaches its write a turn after its bytes arrived, so the batch
waits one more turn for the requests whose bytes arrived meanwhile. Under `bench/api.py`
that took a bare server's ratings from 7.6k to 8.6k a second (its COMMIT shared by about
twice as many) and lowered their p50; three turns gained no more, five lost
(`docs/performance.md`).

The batch runs right in the event loop when SQLite's write lock is free (a few tens of
microseconds: no thread hop, no contention for the GIL); when another connection holds the
lock, it goes to the writer thread, which waits for the lock there (`sqlite_busy.py`)
without stalling the loop.
"""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
from collections.abc import Callable
from typing import Any

from ppb.store.engine.sqlite_busy import patiently
from ppb.store.engine.sqlite_pool import TunedConnection

Work = Callable[[sqlite3.Connection], Any]
MAX_BATCH = 256
"""Writes per transaction at most: a long transaction holds SQLite's one write lock."""

_STOP = object()


class SQLiteWriter:
    """A thread with its own connection; `await run(work)` calls `work(connection)` there.

    A `work` that raises fails alone (SQLite undoes just its statement); a COMMIT that fails
    fails the whole batch, and every caller in it gets that error.
    """

    def __init__(self, path: str, *, timeout: float = 30.0) -> None:
        self._path = path
        self._timeout = timeout
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._inline: sqlite3.Connection | None = None
        self._pending: list[tuple[Work, Any, Any]] = []
        self._in_thread = 0
        """Writes handed to the thread and not yet answered: later ones follow them there,
        so writes commit in the order they came."""

    async def run(self, work: Work) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        if not self._pending:  # a turn later than the next (the module's docstring says why)
            loop.call_soon(loop.call_soon, self._flush_inline)
        self._pending.append((work, future, loop))
        return await future

    def _flush_inline(self) -> None:
        """This turn's writes, in the loop when the write lock is free, else in the thread."""
        batch, self._pending = self._pending, []
        if not batch:
            return
        if not self._in_thread:
            if self._inline is None:
                try:
                    self._inline = self._connect(timeout=0.0)
                except sqlite3.Error as error:  # no database to write to: every caller hears why
                    self._deliver(batch, [(False, error)] * len(batch), in_loop=True)
                    return
                self._inline.execute("PRAGMA busy_timeout=0")  # never wait for the lock in the loop
            try:
                self._inline.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError:  # locked by another connection: wait in the thread
                pass
            else:
                self._write(self._inline, batch, begun=True)
                return
        self._start()
        self._in_thread += len(batch)
        for item in batch:
            self._queue.put(item)

    def _connect(self, timeout: float) -> sqlite3.Connection:
        return sqlite3.connect(
            self._path, timeout=timeout, factory=TunedConnection, isolation_level=None, check_same_thread=False
        )

    def close(self) -> None:
        inline, self._inline = self._inline, None
        if inline is not None:
            inline.close()
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(_STOP)
            thread.join()

    def _start(self) -> None:
        if self._thread is not None:
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._serve, name="ppb-sqlite-writer", daemon=True)
                self._thread.start()

    def _serve(self) -> None:
        connection: sqlite3.Connection | None = None
        try:
            while True:
                batch = [self._queue.get()]
                while len(batch) < MAX_BATCH:
                    try:
                        batch.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                stop = any(item is _STOP for item in batch)
                writes = [item for item in batch if item is not _STOP]
                if writes and connection is None:
                    try:
                        connection = self._connect(self._timeout)
                    except sqlite3.Error as error:  # tried again with the next batch
                        self._deliver(writes, [(False, error)] * len(writes), in_loop=False)
                        writes = []
                if writes and connection is not None:
                    self._write(connection, writes)
                if stop:
                    return
        finally:
            if connection is not None:
                connection.close()

    def _write(self, connection: sqlite3.Connection, batch: list[tuple[Work, Any, Any]], *, begun: bool = False) -> None:
        if not batch:
            return
        outcomes: list[tuple[bool, Any]] = []
        try:
            if not begun:  # the lock taken by another process: polled for, not slept on
                timeout_ms = int(self._timeout * 1000)
                patiently(connection, lambda: connection.execute("BEGIN IMMEDIATE"), timeout_ms, timeout_ms)
            for work, _future, _loop in batch:
                try:
                    outcomes.append((True, work(connection)))
                except Exception as error:  # this caller's error, not the batch's
                    outcomes.append((False, error))
            connection.execute("COMMIT")
        except Exception as error:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            outcomes = [(False, error)] * len(batch)
        self._deliver(batch, outcomes, in_loop=begun)

    def _deliver(self, batch: list[tuple[Work, Any, Any]], outcomes: list[tuple[bool, Any]], *, in_loop: bool) -> None:
        """Each caller's outcome, set right here in the loop or handed to the caller's loop."""
        by_loop: dict[Any, list[tuple[Any, bool, Any]]] = {}
        for (_work, future, loop), (ok, value) in zip(batch, outcomes):
            by_loop.setdefault(loop, []).append((future, ok, value))
        for loop, answers in by_loop.items():
            if in_loop:
                _answer(answers)
                continue
            try:
                loop.call_soon_threadsafe(self._answer_from_thread, answers)
            except RuntimeError:  # that event loop is closed: nobody is waiting any more
                pass

    def _answer_from_thread(self, answers: list[tuple[asyncio.Future[Any], bool, Any]]) -> None:
        self._in_thread -= len(answers)
        _answer(answers)


def _answer(answers: list[tuple[asyncio.Future[Any], bool, Any]]) -> None:
    for future, ok, value in answers:
        if future.done():  # the caller was cancelled; the write stands
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)
