"""Experiments, assignments and results in the store (never in process memory)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa

from ppb.domain.errors import Conflict, NotFound
from ppb.domain.experiments import Variant, assign, parse_variants
from ppb.store.base import Row, _row, _rows, utcnow, writes
from ppb.store.console_schema import experiment_assignments, experiments
from ppb.store.feed_ratings import likes, with_delivery
from ppb.store.engine import Prepared
from ppb.store.queries import Store
from ppb.store.schema import interactions


def _decoded(row: Row) -> Row:
    if isinstance(row.get("variants"), str | bytes):  # asyncpg hands JSON back as text
        row["variants"] = orjson.loads(row["variants"])
    return row


RUNNING = Prepared(
    sa.select(experiments)
    .where(experiments.c.started_at.is_not(None), experiments.c.stopped_at.is_(None))
    .order_by(experiments.c.id)
    .limit(1)
)
"""The running experiment, if any (every feed call asks)."""


class Experiments:
    """A/B tests of ranking variants; at most one runs at a time."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._db = store.database
        self.engine = store.engine  # `@writes` takes its one-writer lock

    @writes
    async def create(self, name: str, variants: list[Variant], actor: str) -> Row:
        taken = await self._db.fetch_val(sa.select(experiments.c.id).where(experiments.c.name == name))
        if taken is not None:
            raise Conflict(f"name: an experiment named {name!r} exists already (id {taken})")
        payload = [{"name": v.name, "weight": v.weight, "settings": v.settings} for v in variants]
        new_id = await self._db.fetch_val(
            experiments.insert()
            .values(name=name, variants=payload, created_by=actor, created_at=utcnow())
            .returning(experiments.c.id)
        )
        return await self.get(int(new_id))

    async def get(self, experiment_id: int) -> Row:
        record = await self._db.fetch_one(sa.select(experiments).where(experiments.c.id == experiment_id))
        if record is None:
            raise NotFound(f"experiment_id: experiment {experiment_id} not found")
        return _decoded(_row(record))

    async def all(self) -> list[Row]:
        records = await self._db.fetch_all(sa.select(experiments).order_by(experiments.c.id.desc()))
        return [_decoded(row) for row in _rows(records)]

    async def running(self) -> Row | None:
        record = await self._db.fetch_one(self._store._bound(RUNNING))
        return _decoded(_row(record)) if record else None

    @writes
    async def start(self, experiment_id: int, at: datetime | None = None) -> Row:
        """Start a draft; assignment begins now. 409 while another experiment runs."""
        experiment = await self.get(experiment_id)
        if experiment["started_at"] is not None:
            raise Conflict(f"experiment_id: experiment {experiment_id} has been started already")
        other = await self.running()
        if other is not None:
            raise Conflict(f"experiment_id: experiment {other['id']} ({other['name']!r}) is running; stop it first")
        await self._db.execute(
            experiments.update().where(experiments.c.id == experiment_id).values(started_at=at or utcnow())
        )
        return await self.get(experiment_id)

    @writes
    async def stop(self, experiment_id: int) -> Row:
        experiment = await self.get(experiment_id)
        if experiment["started_at"] is None or experiment["stopped_at"] is not None:
            raise Conflict(f"experiment_id: experiment {experiment_id} is not running")
        await self._db.execute(
            experiments.update().where(experiments.c.id == experiment_id).values(stopped_at=utcnow())
        )
        return await self.get(experiment_id)

    async def variant_for(self, user_id: int) -> tuple[Row, Variant] | None:
        """The user's variant in the running experiment (assigned and kept on first use).

        With no experiment running (most of the time) this is one read, outside the lock
        SQLite's writers queue on: a feed call does not wait behind the ratings."""
        experiment = await self.running()
        if experiment is None:
            return None
        return await self._variant_in(user_id)

    @writes
    async def _variant_in(self, user_id: int) -> tuple[Row, Variant] | None:
        experiment = await self.running()
        if experiment is None:
            return None
        variants = parse_variants(experiment["variants"])
        name = await self._assigned(experiment["id"], user_id)
        if name is None:
            chosen = assign(int(experiment["id"]), user_id, variants)
            await self._db.execute(
                self._store._insert(experiment_assignments)
                .values(experiment_id=experiment["id"], user_id=user_id, variant=chosen.name, assigned_at=utcnow())
                .on_conflict_do_nothing(index_elements=[experiment_assignments.c.experiment_id,
                                                        experiment_assignments.c.user_id])
            )
            name = await self._assigned(experiment["id"], user_id)
        variant = next((v for v in variants if v.name == name), variants[0])
        return experiment, variant

    async def _assigned(self, experiment_id: int, user_id: int) -> str | None:
        value = await self._db.fetch_val(
            sa.select(experiment_assignments.c.variant).where(
                experiment_assignments.c.experiment_id == experiment_id,
                experiment_assignments.c.user_id == user_id,
            )
        )
        return str(value) if value is not None else None

    async def tallies(self, experiment: Row) -> dict[str, dict[str, int]]:
        """Per variant: users assigned, and the feed ratings (and likes) of posts the feed
        delivered after the user's assignment, rated before the experiment stopped."""
        a = experiment_assignments
        users = await self._db.fetch_all(
            sa.select(a.c.variant, sa.func.count()).where(a.c.experiment_id == experiment["id"]).group_by(a.c.variant)
        )
        assigned = interactions.join(a, sa.and_(a.c.user_id == interactions.c.user_id,
                                                a.c.experiment_id == experiment["id"]))
        joined, feed = with_delivery(assigned, since=a.c.assigned_at)
        query = (
            sa.select(a.c.variant, sa.func.count().label("ratings"), likes().label("likes"))
            .select_from(joined)
            .where(interactions.c.created_at >= a.c.assigned_at, feed)
            .group_by(a.c.variant)
        )
        if experiment["stopped_at"] is not None:
            query = query.where(interactions.c.created_at <= experiment["stopped_at"])
        found: dict[str, dict[str, int]] = {}
        for row in users:
            found.setdefault(str(row[0]), {"users": 0, "ratings": 0, "likes": 0})["users"] = int(row[1])
        for row in _rows(await self._db.fetch_all(query)):
            entry = found.setdefault(str(row["variant"]), {"users": 0, "ratings": 0, "likes": 0})
            entry["ratings"], entry["likes"] = int(row["ratings"]), int(row["likes"] or 0)
        return found

    @staticmethod
    def describe(experiment: Row) -> dict[str, Any]:
        state = "draft" if experiment["started_at"] is None else ("stopped" if experiment["stopped_at"] else "running")
        return {**experiment, "state": state}
