"""The engine contract under the store (`ppb/store/engine/`): each SQLite and PostgreSQL
statement the queries by resource ask for behaves alike on both."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import orjson
import sqlalchemy as sa

from ppb.store.base import as_utc
from ppb.store.engine import Column
from ppb.store.posts import POST_COLUMNS
from ppb.store.queries import Store
from ppb.store.schema import posts

CONFLICT = "ON CONFLICT (channel_id, telegram_message_id) DO NOTHING"


async def test_a_batch_insert_counts_what_it_made_and_stores_times_as_every_other_write(store: Store, new_id) -> None:
    channel = await store.upsert_channel(-1000000000000 - new_id(), None, "Engine")
    at = datetime(2026, 12, 9, 10, 30, 15, 250000, tzinfo=UTC)  # a Wednesday
    rows = [(channel["id"], number, f"post {number}", "text", at - timedelta(hours=number), at, None)
            for number in (1, 2, 2)]
    created, made = await store.engine.insert_many("posts", POST_COLUMNS, rows, conflict=CONFLICT,
                                                   returning=("telegram_message_id", "id"))
    assert created == 2  # the repeated message once
    again, _ = await store.engine.insert_many("posts", POST_COLUMNS, [*rows, (channel["id"], 3, "new", "text", at, at, None)],
                                              conflict=CONFLICT, returning=("telegram_message_id", "id"))
    assert again == 1
    if made is not None:  # the engine names them (PostgreSQL)
        assert sorted(message for message, _ in made) == [1, 2]

    stored = await store.database.fetch_all(
        sa.select(posts.c.telegram_message_id, posts.c.posted_at).where(posts.c.channel_id == channel["id"])
        .where(posts.c.posted_at < at - timedelta(minutes=90)))  # compared with a time SQLAlchemy writes
    assert {int(row[0]): as_utc(row[1]) for row in stored} == {2: at - timedelta(hours=2)}


async def test_report_expressions_read_stored_times_alike(store: Store, new_id) -> None:
    channel = await store.upsert_channel(-1000000000000 - new_id(), None, "Engine")
    at = datetime(2026, 12, 9, 23, 30, tzinfo=UTC)
    await store.engine.insert_many("posts", POST_COLUMNS, [(channel["id"], 1, "x", "text", at, at + timedelta(hours=25), None)],
                                   conflict=CONFLICT)
    engine = store.engine
    row = await store.database.fetch_one(sa.select(
        engine.day(posts.c.posted_at), engine.week(posts.c.posted_at),
        engine.seconds_between(posts.c.created_at, posts.c.posted_at),
        posts.c.created_at <= engine.day_after(posts.c.posted_at),
        posts.c.posted_at + timedelta(hours=1) <= engine.day_after(posts.c.posted_at),
    ).where(posts.c.channel_id == channel["id"]))
    assert str(row[0]) == "2026-12-09" and str(row[1]) == str(date(2026, 12, 7))
    assert round(float(row[2])) == 25 * 3600
    assert not row[3] and row[4]


async def test_rows_sent_as_one_json_parameter_read_back_typed(store: Store) -> None:
    engine = store.engine
    given = engine.json_rows("rows", (Column("n", "bigint"), Column("flag", "boolean"), Column("label", "text"),
                                      Column("at", "timestamptz")))
    at = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    rows = [{"n": 7, "flag": True, "label": "seven", "at": engine.json_time(at)},
            {"n": 8, "flag": False, "label": "eight", "at": engine.json_time(at + timedelta(days=1))}]
    v = given.value
    sql = f"SELECT {v['n']}, {v['flag']}, {v['label']}, {v['at']} FROM {given.source} ORDER BY 1"
    found = await store.database.fetch_all(sa.text(sql).bindparams(rows=orjson.dumps(rows).decode()))
    assert [(int(r[0]), bool(r[1]), r[2]) for r in found] == [(7, True, "seven"), (8, False, "eight")]
    later = await store.database.fetch_val(
        sa.text(f"SELECT count(*) FROM {given.source} WHERE {v['at']} > {engine.time_parameter('now')}")
        .bindparams(rows=orjson.dumps(rows).decode(), now=engine.time_value(at)))
    assert later == 1
