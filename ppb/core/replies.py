"""The use cases' results as the plain, JSON-shaped dicts every client reads (the REST
replies validate these against their schemas; the in-process `Ppb` hands them over as is)."""

from __future__ import annotations

from typing import Any

from ppb.core.feed import FeedPage
from ppb.core.training import Finished, TrainingState
from ppb.ranking.explain import Explanation


def post_url(username: str | None, message_id: int | None) -> str | None:
    """The post on t.me, when its channel has a username."""
    return f"https://t.me/{username}/{message_id}" if username and message_id else None


def with_url(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "url": post_url(row.get("channel_username"), row.get("telegram_message_id"))}


def training_state(state: TrainingState, limit: int) -> dict[str, Any]:
    return {"status": state.status, "is_trained": state.is_trained, "total": state.total, "done": state.done,
            "remaining": state.remaining, "can_finish": state.can_finish, "ratings_count": state.ratings_count,
            "skipped": len(state.skipped), "settled": state.settled,
            "posts": [with_url(row) for row in state.cards[:limit]]}


def finished(done: Finished, limit: int) -> dict[str, Any]:
    return {**training_state(done.state, limit), "success": done.success,
            "training_time": round(done.seconds, 6), "ratings_count": done.ratings_count}


def feed_page(page: FeedPage) -> dict[str, Any]:
    good = len(page.posts) - page.others
    cards = [{**with_url(row), "relevance_score": round(score, 6), "from_disliked_channel": index >= good}
             for index, (row, score) in enumerate(page.posts)]
    return {"posts": cards, "others": page.others}


def ranked(rows: list[tuple[dict[str, Any], float]]) -> list[dict[str, Any]]:
    return [{**row, "relevance_score": round(score, 6)} for row, score in rows]


def explanation(found: Explanation) -> dict[str, Any]:
    """Why a post is where it is: the reasons strongest first, their liked posts quoted."""
    reasons = [
        {"kind": reason.kind, "contribution": round(reason.contribution, 4), "detail": reason.detail,
         "posts": [{"id": i, "quote": found.quotes[i]} for i in reason.post_ids if i in found.quotes]}
        for reason in found.reasons
    ]
    return {"post_id": found.post_id, "score": round(found.score, 6), "learned": found.learned,
            "reasons": reasons, "terms": {name: round(value, 4) for name, value in found.terms.items()}}
