"""SQLite statements in the event loop (ppb/store/engine/sqlite_inline.py): a statement that would
wait for another process's lock waits in a thread, with the loop free; a
heavy one moves to the thread for good; prepared and ad-hoc statements read alike."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from ppb.config import load_settings
from ppb.store.migrate import upgrade
from ppb.store.engine import Prepared
from ppb.store.queries import Store
from ppb.store.schema import users
from ppb.store.users import FIND_USER


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[tuple[Store, Path]]:
    path = tmp_path / "inline.db"
    url = load_settings(DATABASE_URL=f"sqlite:///{path}").async_database_url
    await asyncio.to_thread(upgrade, url)
    store = Store(url)
    await store.connect()
    try:
        yield store, path
    finally:
        await store.disconnect()


async def test_a_write_behind_another_process_lock_waits_without_holding_the_loop(sqlite_store) -> None:
    store, path = sqlite_store
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # another process holds SQLite's write lock
    try:
        write = asyncio.ensure_future(store.upsert_user(7001, "late", "Late", None))
        turns = 0
        while turns < 50:  # the loop keeps turning while the write waits for the lock
            await asyncio.sleep(0)
            turns += 1
        assert not write.done()
    finally:
        other.execute("COMMIT")
        other.close()
    user, created = await asyncio.wait_for(write, 30)
    assert created and user["username"] == "late"
    assert (await store.get_user(7001))["first_name"] == "Late"


async def test_a_heavy_statement_moves_to_the_connection_thread(sqlite_store) -> None:
    store, _ = sqlite_store
    heavy = sa.text(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300000) "
        "SELECT where_am_i(), count(*) FROM n"
    )
    async with store.session():
        raw = store.database.connection().raw_connection.raw
        raw.create_function("where_am_i", 0, threading.get_ident)
        first = await store.database.fetch_one(heavy)
        second = await store.database.fetch_one(heavy)
    assert first[1] == second[1] == 300000
    assert first[0] == threading.get_ident()  # in the loop the first time
    assert second[0] != threading.get_ident()  # then in the thread, once it proved heavy


async def test_prepared_and_ad_hoc_statements_read_the_same_row(sqlite_store) -> None:
    store, _ = sqlite_store
    await store.upsert_user(7002, "same", "Same", "Row", "en")
    ad_hoc = await store.database.fetch_one(sa.select(users).where(users.c.telegram_id == 7002))
    prepared = await store.database.fetch_one(store._bound(FIND_USER, telegram_id=7002))
    assert dict(ad_hoc._mapping) == dict(prepared._mapping)
    assert prepared["created_at"] is not None and not isinstance(prepared["created_at"], str)
    listed = Prepared(sa.select(users.c.telegram_id).where(
        users.c.telegram_id.in_(sa.bindparam("ids", expanding=True, type_=users.c.telegram_id.type))))
    rows = await store.database.fetch_all(store._bound(listed, ids=[7002, 1, 2]))
    assert [row[0] for row in rows] == [7002]


async def test_a_writer_without_its_database_answers_every_caller_with_the_error(tmp_path: Path) -> None:
    """No database file to open: each queued write fails at once, in the loop and in the thread."""
    from ppb.store.engine.sqlite_writer import SQLiteWriter

    writer = SQLiteWriter(str(tmp_path / "missing-dir" / "ppb.db"))
    try:
        inline = await asyncio.wait_for(
            asyncio.gather(*(writer.run(lambda c: 1) for _ in range(3)), return_exceptions=True), 10
        )
        assert all(isinstance(outcome, sqlite3.OperationalError) for outcome in inline)
        writer._start()  # the thread's path: it too answers instead of dying with its callers waiting
        writer._in_thread += 1
        future = asyncio.get_running_loop().create_future()
        writer._queue.put((lambda c: 1, future, asyncio.get_running_loop()))
        with pytest.raises(sqlite3.OperationalError):
            await asyncio.wait_for(future, 10)
        (tmp_path / "missing-dir").mkdir()
        assert await asyncio.wait_for(writer.run(lambda c: c.execute("select 2").fetchone()[0]), 10) == 2
    finally:
        writer.close()


def test_waiting_for_the_write_lock_tries_again_until_it_is_free_and_raises_other_errors(tmp_path: Path) -> None:
    """`patiently`: a write behind another connection's lock goes through once that lock is
    released (tried again meanwhile, not failed), and an error that is no lock is raised."""
    from ppb.store.engine.sqlite_busy import patiently

    path = str(tmp_path / "busy.db")
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("PRAGMA journal_mode=WAL")
    holder.execute("CREATE TABLE t (x INTEGER)")
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    tries: list[int] = []
    holder.execute("BEGIN IMMEDIATE")

    def begin() -> None:
        tries.append(1)
        if len(tries) == 3:  # the other process finishes while this one is waiting
            holder.execute("COMMIT")
        writer.execute("BEGIN IMMEDIATE")

    patiently(writer, begin, 30_000, 0)
    writer.execute("INSERT INTO t VALUES (1)")
    writer.execute("COMMIT")
    assert len(tries) >= 3 and holder.execute("SELECT x FROM t").fetchall() == [(1,)]
    assert writer.execute("PRAGMA busy_timeout").fetchone() == (0,)  # as asked afterwards
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        patiently(writer, lambda: writer.execute("INSERT INTO missing VALUES (1)"), 30_000, 0)
    holder.close()
    writer.close()
