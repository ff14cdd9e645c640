"""What tests read of the store that PPB itself never asks: a person's nudges and outbox rows."""

from __future__ import annotations

from typing import Any

import orjson
import sqlalchemy as sa

from ppb.store.queries import Store
from ppb.store.schema import nudges, outbox


async def nudges_of(store: Store, user_id: int) -> list[dict[str, Any]]:
    records = await store.database.fetch_all(sa.select(nudges).where(nudges.c.user_id == user_id).order_by(nudges.c.id))
    return [dict(record._mapping) for record in records]


async def outbox_of(store: Store, user_id: int) -> list[dict[str, Any]]:
    """The person's queued and sent messages, oldest first, payloads decoded."""
    records = await store.database.fetch_all(sa.select(outbox).where(outbox.c.user_id == user_id).order_by(outbox.c.id))
    rows = [dict(record._mapping) for record in records]
    for row in rows:
        if isinstance(row.get("payload"), str | bytes):
            row["payload"] = orjson.loads(row["payload"])
    return rows
