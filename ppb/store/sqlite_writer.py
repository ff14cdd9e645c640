"""Group commit on SQLite: one writer thread runs every queued write of a moment in one
transaction and answers each caller after the COMMIT, so nothing is acknowledged before it
is durable, and a burst of small writes costs one thread hop and one commit, not one each.
"""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
from collections.abc import Callable
from typing import Any

from ppb.store.sqlite import TunedConnection

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

    async def run(self, work: Work) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._start()
        self._queue.put((work, future, loop))
        return await future

    def close(self) -> None:
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
        connection = sqlite3.connect(
            self._path, timeout=self._timeout, factory=TunedConnection, isolation_level=None, check_same_thread=False
        )
        try:
            while True:
                batch = [self._queue.get()]
                while len(batch) < MAX_BATCH:
                    try:
                        batch.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                stop = any(item is _STOP for item in batch)
                self._write(connection, [item for item in batch if item is not _STOP])
                if stop:
                    return
        finally:
            connection.close()

    def _write(self, connection: sqlite3.Connection, batch: list[tuple[Work, Any, Any]]) -> None:
        if not batch:
            return
        outcomes: list[tuple[bool, Any]] = []
        try:
            connection.execute("BEGIN IMMEDIATE")
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
        by_loop: dict[Any, list[tuple[Any, bool, Any]]] = {}
        for (_work, future, loop), (ok, value) in zip(batch, outcomes):
            by_loop.setdefault(loop, []).append((future, ok, value))
        for loop, answers in by_loop.items():
            try:
                loop.call_soon_threadsafe(_answer, answers)
            except RuntimeError:  # that event loop is closed: nobody is waiting any more
                pass


def _answer(answers: list[tuple[asyncio.Future[Any], bool, Any]]) -> None:
    for future, ok, value in answers:
        if future.done():  # the caller was cancelled; the write stands
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)
