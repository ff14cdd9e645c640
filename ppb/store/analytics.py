"""The console's analytics: set-based queries over the whole store, the same on SQLite and
PostgreSQL (only the day and week buckets differ per dialect)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from ppb.domain.experiments import wilson
from ppb.domain.explanations import Surface
from ppb.domain.status import UserEvent
from ppb.store.base import Row, _rows, utcnow
from ppb.store.feed_ratings import likes, with_delivery
from ppb.store.queries import Store
from ppb.store.schema import (
    channels,
    explanations,
    interactions,
    nudges,
    posts,
    user_channels,
    user_logs,
    users,
)

FUNNEL = ("new", "onboarding", "training", "trained", "active", "churned")
REACHED_BY = {
    "onboarding": (UserEvent.START.log_action,),
    "training": (UserEvent.START_TRAINING.log_action,),
    "trained": (UserEvent.COMPLETE_TRAINING.log_action,),
    "active": (UserEvent.VIEW_FEED.log_action, UserEvent.ACTIVITY.log_action),
    "churned": (UserEvent.CHURN.log_action,),
}
"""The logged transitions (`user_logs.action`) by which a user reaches each stage."""


def rate(likes: int, ratings: int) -> dict[str, Any]:
    """A like rate of feed ratings with its 95% Wilson interval (None without ratings)."""
    low, high = wilson(likes, ratings)
    return {"feed_ratings": ratings, "feed_likes": likes, "like_rate": round(likes / ratings, 4) if ratings else None,
            "ci_low": round(low, 4), "ci_high": round(high, 4)}


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, date | datetime) else str(value)


class Analytics:
    """Read-only figures for operators."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._db = store.database

    def _bucket(self, column: Any, period: str) -> Any:
        engine = self._store.engine
        return engine.week(column) if period == "week" else engine.day(column)

    async def funnel(self) -> dict[str, Any]:
        """Users by status now, and how many ever reached each stage, with conversions."""
        now = await self._db.fetch_all(sa.select(users.c.status, sa.func.count()).group_by(users.c.status))
        by_status = {status: 0 for status in FUNNEL} | {row[0]: int(row[1]) for row in now}
        total = sum(by_status.values())
        logged = await self._db.fetch_all(
            sa.select(user_logs.c.action, sa.func.count(sa.distinct(user_logs.c.user_id)))
            .where(user_logs.c.action.in_([a for actions in REACHED_BY.values() for a in actions]))
            .group_by(user_logs.c.action)
        )
        counts = {row[0]: int(row[1]) for row in logged}
        reached = {"new": total}
        for stage, actions in REACHED_BY.items():
            if len(actions) == 1:
                reached[stage] = counts.get(actions[0], 0)
        reached["active"] = await self._reached_any(REACHED_BY["active"])
        stages, previous = [], None
        for stage in FUNNEL:
            base = reached["active"] if stage == "churned" else previous
            rate = reached[stage] / base if base else None
            stages.append({"stage": stage, "now": by_status[stage], "reached": reached[stage],
                           "conversion": round(rate, 4) if rate is not None else None})
            previous = reached[stage]
        return {"total_users": total, "stages": stages}

    async def _reached_any(self, actions: tuple[str, ...]) -> int:
        return int(await self._db.fetch_val(
            sa.select(sa.func.count(sa.distinct(user_logs.c.user_id))).where(user_logs.c.action.in_(actions))
        ) or 0)

    async def active_users(self, days: int, period: str = "day") -> list[Row]:
        """Distinct users who rated anything, per day or per ISO week (Monday), oldest first."""
        bucket = self._bucket(interactions.c.created_at, period).label("period")
        query = (
            sa.select(bucket, sa.func.count(sa.distinct(interactions.c.user_id)).label("users"))
            .where(interactions.c.created_at >= utcnow() - timedelta(days=days))
            .group_by(bucket)
            .order_by(bucket)
        )
        return [{"period": _iso(r["period"]), "users": int(r["users"])} for r in _rows(await self._db.fetch_all(query))]

    async def daily(self, days: int) -> list[Row]:
        """Per day, in one pass over the window's ratings: active users (distinct raters),
        ratings, feed ratings and their likes, and the like rate with its 95% Wilson interval."""
        bucket = self._bucket(interactions.c.created_at, "day").label("day")
        joined, feed = with_delivery()
        query = (
            sa.select(
                bucket,
                sa.func.count(sa.distinct(interactions.c.user_id)).label("active_users"),
                sa.func.count().label("ratings"),
                sa.func.count().filter(feed).label("feed_ratings"),
                sa.func.count().filter(sa.and_(feed, interactions.c.interaction_type == "like")).label("feed_likes"),
            )
            .select_from(joined)
            .where(interactions.c.created_at >= utcnow() - timedelta(days=days))
            .group_by(bucket)
            .order_by(bucket)
        )
        out = []
        for row in _rows(await self._db.fetch_all(query)):
            n, k = int(row["feed_ratings"]), int(row["feed_likes"])
            out.append({"day": _iso(row["day"]), "active_users": int(row["active_users"]), "ratings": int(row["ratings"]),
                        **rate(k, n)})
        return out

    async def active_since(self, days: int) -> int:
        """Distinct users who rated anything in the last `days` days."""
        return int(await self._db.fetch_val(
            sa.select(sa.func.count(sa.distinct(interactions.c.user_id)))
            .where(interactions.c.created_at >= utcnow() - timedelta(days=days))
        ) or 0)

    async def like_rate(self) -> dict[str, Any]:
        """The like rate of feed posts over all time, with its 95% Wilson interval."""
        joined, feed = with_delivery()
        record = await self._db.fetch_one(
            sa.select(sa.func.count().label("n"), likes().label("k")).select_from(joined).where(feed)
        )
        return rate(int(record["k"] or 0), int(record["n"] or 0))

    async def training(self) -> dict[str, Any]:
        """Users who started training, who completed it, and how long the first one took."""
        started = sa.func.min(sa.case((user_logs.c.action == UserEvent.START_TRAINING.log_action, user_logs.c.created_at)))
        completed = sa.func.min(sa.case((user_logs.c.action == UserEvent.COMPLETE_TRAINING.log_action, user_logs.c.created_at)))
        per_user = (
            sa.select(user_logs.c.user_id, started.label("started"), completed.label("completed"))
            .where(user_logs.c.action.in_([UserEvent.START_TRAINING.log_action, UserEvent.COMPLETE_TRAINING.log_action]))
            .group_by(user_logs.c.user_id)
            .subquery()
        )
        seconds = self._store.engine.seconds_between(per_user.c.completed, per_user.c.started)
        done = sa.and_(per_user.c.started.is_not(None), per_user.c.completed >= per_user.c.started)
        record = await self._db.fetch_one(sa.select(
            sa.func.count(per_user.c.started).label("started"),
            sa.func.count().filter(done).label("completed"),
            sa.func.avg(sa.case((done, seconds))).label("avg_seconds"),
            sa.func.max(sa.case((done, seconds))).label("max_seconds"),
        ))
        begun, finished = int(record["started"] or 0), int(record["completed"] or 0)
        average = record["avg_seconds"]
        return {"started": begun, "completed": finished,
                "completion_rate": round(finished / begun, 4) if begun else None,
                "avg_seconds": round(float(average), 1) if average is not None else None,
                "max_seconds": round(float(record["max_seconds"]), 1) if record["max_seconds"] is not None else None}

    async def nudges(self) -> dict[str, Any]:
        """Nudges sent, and how many were followed by a rating from that person within a day."""
        day_later = self._store.engine.day_after(nudges.c.sent_at)
        came_back = sa.exists(sa.select(1).where(
            interactions.c.user_id == nudges.c.user_id,
            interactions.c.created_at >= nudges.c.sent_at,
            interactions.c.created_at <= day_later,
        ))
        record = await self._db.fetch_one(
            sa.select(
                sa.func.count().label("sent"),
                sa.func.count().filter(came_back).label("returned"),
            ).where(nudges.c.status == "sent")
        )
        sent, back = int(record["sent"] or 0), int(record["returned"] or 0)
        return {"sent": sent, "returned_within_day": back, "return_rate": round(back / sent, 4) if sent else None}

    async def channels(self, search: str | None = None, limit: int = 100, offset: int = 0) -> list[Row]:
        """Channels with followers, posts, and the like rate of every rating of their posts."""
        followers = (
            sa.select(user_channels.c.channel_id, sa.func.count().label("n"))
            .group_by(user_channels.c.channel_id).subquery()
        )
        post_counts = sa.select(posts.c.channel_id, sa.func.count().label("n")).group_by(posts.c.channel_id).subquery()
        ratings = (
            sa.select(posts.c.channel_id, sa.func.count().label("n"), likes().label("k"))
            .join(interactions, interactions.c.post_id == posts.c.id)
            .group_by(posts.c.channel_id).subquery()
        )
        query = (
            sa.select(
                channels.c.id, channels.c.telegram_id, channels.c.username, channels.c.title, channels.c.is_default,
                sa.func.coalesce(followers.c.n, 0).label("followers"),
                sa.func.coalesce(post_counts.c.n, 0).label("posts"),
                sa.func.coalesce(ratings.c.n, 0).label("ratings"),
                sa.func.coalesce(ratings.c.k, 0).label("likes"),
            )
            .outerjoin(followers, followers.c.channel_id == channels.c.id)
            .outerjoin(post_counts, post_counts.c.channel_id == channels.c.id)
            .outerjoin(ratings, ratings.c.channel_id == channels.c.id)
            .order_by(sa.func.coalesce(followers.c.n, 0).desc(), channels.c.id)
            .limit(limit).offset(offset)
        )
        if search:
            pattern = f"%{search.lower().lstrip('@')}%"
            query = query.where(sa.or_(sa.func.lower(channels.c.username).like(pattern),
                                       sa.func.lower(channels.c.title).like(pattern)))
        rows = _rows(await self._db.fetch_all(query))
        for row in rows:
            row["like_rate"] = round(row["likes"] / row["ratings"], 4) if row["ratings"] else None
            row["is_default"] = bool(row["is_default"])
        return rows

    async def reasons(self, days: int) -> dict[str, Any]:
        """The explanations given in the last `days` days: how often each reason led one (and
        where people asked), and whether explained posts are liked more: among the people who
        asked, the like rate of the feed posts they rated after asking why about them (overall
        and by the reason that led the last explanation before the rating) against the like
        rate of the rest of their feed ratings, all in the same window."""
        since = utcnow() - timedelta(days=days)
        given = await self._db.fetch_all(
            sa.select(explanations.c.lead, explanations.c.surface, sa.func.count().label("n"))
            .where(explanations.c.created_at >= since)
            .group_by(explanations.c.lead, explanations.c.surface)
        )
        people = int(await self._db.fetch_val(
            sa.select(sa.func.count(sa.distinct(explanations.c.user_id))).where(explanations.c.created_at >= since)
        ) or 0)
        by_lead: dict[str, int] = {}
        surfaces = {surface.value: 0 for surface in Surface}
        for row in _rows(given):
            by_lead[row["lead"]] = by_lead.get(row["lead"], 0) + int(row["n"])
            surfaces[row["surface"]] = surfaces.get(row["surface"], 0) + int(row["n"])
        total = sum(by_lead.values())
        leads = [{"kind": kind, "count": n, "share": round(n / total, 4)}
                 for kind, n in sorted(by_lead.items(), key=lambda item: (-item[1], item[0]))]
        tallies = await self._after_asking(since)
        explained = [(lead, n, k) for lead, n, k in tallies if lead is not None]
        rest = next(((n, k) for lead, n, k in tallies if lead is None), (0, 0))
        return {
            "days": days, "explanations": total, "people": people, "leads": leads, "surfaces": surfaces,
            "explained": rate(sum(k for _, _, k in explained), sum(n for _, n, _ in explained)),
            "rest": rate(rest[1], rest[0]),
            "by_lead": [{"kind": lead, **rate(k, n)}
                        for lead, n, k in sorted(explained, key=lambda item: (-item[1], item[0]))],
        }

    async def _after_asking(self, since: datetime) -> list[tuple[str | None, int, int]]:
        """(lead, feed ratings, likes) of the window's feed ratings by people who asked why in
        it: lead is that of the last explanation of the post the person asked for before
        rating it (in the window), None for the rest of their ratings. Two statements: the
        askers' feed ratings (one pass over their ratings), and the explained ones driven from
        the window's explanations (each finds its rating by the (user, post) key)."""
        askers = sa.select(explanations.c.user_id).where(explanations.c.created_at >= since).distinct()
        joined, feed = with_delivery()
        everything = await self._db.fetch_one(
            sa.select(sa.func.count().label("n"), likes().label("k"))
            .select_from(joined)
            .where(interactions.c.created_at >= since, interactions.c.user_id.in_(askers), feed)
        )
        later = explanations.alias("later")
        superseded = sa.exists(sa.select(1).where(
            later.c.user_id == explanations.c.user_id, later.c.post_id == explanations.c.post_id,
            later.c.created_at <= interactions.c.created_at,
            sa.or_(later.c.created_at > explanations.c.created_at,
                   sa.and_(later.c.created_at == explanations.c.created_at, later.c.id > explanations.c.id)),
        ))
        asked = explanations.join(interactions, sa.and_(
            interactions.c.user_id == explanations.c.user_id, interactions.c.post_id == explanations.c.post_id,
            interactions.c.created_at >= explanations.c.created_at))
        joined, feed = with_delivery(asked)
        rows = _rows(await self._db.fetch_all(
            sa.select(explanations.c.lead, sa.func.count().label("n"), likes().label("k"))
            .select_from(joined)
            .where(explanations.c.created_at >= since, feed, ~superseded)
            .group_by(explanations.c.lead)
        ))
        explained = [(row["lead"], int(row["n"]), int(row["k"])) for row in rows]
        n, k = int(everything["n"] or 0), int(everything["k"] or 0)
        return [*explained, (None, n - sum(r[1] for r in explained), k - sum(r[2] for r in explained))]
