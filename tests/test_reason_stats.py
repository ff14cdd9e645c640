"""The console's reason statistics on a small known dataset, in a fresh database per backend:
how often each reason led an explanation, and the like rate of feed posts rated after asking
why against the rest of the same people's feed ratings, in a window and over all time."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import pytest

from ppb.config import load_settings
from ppb.store.analytics import Analytics
from ppb.store.base import utcnow
from ppb.store.migrate import upgrade
from ppb.store.queries import Store
from ppb.store.schema import channels, chat_posts, interactions, posts, users
from tests.conftest import BACKENDS, fresh_postgres


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """A database of its own, migrated (the shared test databases hold every other test's
    explanations)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'reasons.db'}"
        upgrade(load_settings(DATABASE_URL=url).async_database_url)
        yield url
        return
    with fresh_postgres("ppb_reasons") as url:
        yield url


@pytest.fixture
async def empty(empty_url: str) -> AsyncIterator[Store]:
    store = Store(load_settings(DATABASE_URL=empty_url).async_database_url)
    await store.connect()
    yield store
    await store.disconnect()


async def _seed(store: Store) -> None:
    """Three people, eight posts of one channel; each line below says where its rating counts."""
    now = utcnow()

    def ago(hours: float):
        return now - timedelta(hours=hours)

    db = store.database
    channel = await db.execute(channels.insert().values(telegram_id=-100777, username="known", title="Known",
                                                        created_at=now))
    post = {}
    for n in range(1, 9):
        post[n] = await db.execute(posts.insert().values(channel_id=channel, telegram_message_id=n, text=f"p{n}",
                                                         posted_at=ago(48), created_at=ago(48)))
    people = {}
    for name, telegram_id in (("a", 901), ("b", 902), ("c", 903)):
        people[name] = await db.execute(users.insert().values(telegram_id=telegram_id, status="active",
                                                              created_at=ago(50), updated_at=now,
                                                              last_activity_at=now))

    async def sent(who: str, *numbers: int) -> None:
        for n in numbers:
            await db.execute(chat_posts.insert().values(user_id=people[who], post_id=post[n], created_at=ago(10)))

    async def rated(who: str, n: int, kind: str, hours: float) -> None:
        await db.execute(interactions.insert().values(user_id=people[who], post_id=post[n], interaction_type=kind,
                                                      created_at=ago(hours)))

    async def asked(who: str, n: int, lead: str, surface: str, hours: float) -> None:
        await store.record_explanation(people[who], post[n], lead, surface, at=ago(hours))

    await sent("a", 1, 2, 3, 4, 5)
    await asked("a", 1, "peers", "chat", 7)
    await asked("a", 1, "text", "chat", 5)  # the last one before the rating: p1's lead is text
    await rated("a", 1, "like", 4)  # explained (text)
    await asked("a", 2, "explore", "miniapp", 5)
    await rated("a", 2, "dislike", 4)  # explained (explore)
    await rated("a", 3, "like", 3)  # the rest: asked only after rating it
    await asked("a", 3, "text", "api", 1)
    await asked("a", 4, "channel", "chat", 40 * 24)  # before the 30-day window
    await rated("a", 4, "dislike", 3)  # the rest in 30 days; explained (channel) over all time
    await rated("a", 5, "like", 3)  # the rest
    await rated("a", 6, "like", 3)  # never delivered by the feed (training): not counted
    await sent("b", 1, 2)
    await asked("b", 1, "text", "api", 6)
    await rated("b", 1, "dislike", 5)  # explained (text)
    await rated("b", 2, "like", 5)  # the rest
    await asked("b", 7, "none", "api", 2)  # asked, never rated
    await sent("c", 1)
    await rated("c", 1, "like", 4)  # never asked why about anything: not compared


async def test_reasons_are_counted_and_explained_posts_compared_in_the_window(empty: Store) -> None:
    await _seed(empty)
    figures = await Analytics(empty).reasons(30)
    assert figures["days"] == 30 and figures["explanations"] == 6 and figures["people"] == 2
    assert figures["leads"] == [
        {"kind": "text", "count": 3, "share": 0.5},
        {"kind": "explore", "count": 1, "share": 0.1667},
        {"kind": "none", "count": 1, "share": 0.1667},
        {"kind": "peers", "count": 1, "share": 0.1667},
    ]
    assert figures["surfaces"] == {"chat": 2, "miniapp": 1, "api": 3}
    explained, rest = figures["explained"], figures["rest"]
    assert (explained["feed_ratings"], explained["feed_likes"], explained["like_rate"]) == (3, 1, 0.3333)
    assert (rest["feed_ratings"], rest["feed_likes"], rest["like_rate"]) == (4, 3, 0.75)
    assert [(row["kind"], row["feed_ratings"], row["feed_likes"]) for row in figures["by_lead"]] == [
        ("text", 2, 1), ("explore", 1, 0)]


async def test_over_all_time_the_older_explanation_counts(empty: Store) -> None:
    await _seed(empty)
    figures = await Analytics(empty).reasons(3660)
    assert figures["explanations"] == 7
    assert {row["kind"]: row["count"] for row in figures["leads"]}["channel"] == 1
    assert (figures["explained"]["feed_ratings"], figures["explained"]["feed_likes"]) == (4, 1)
    assert (figures["rest"]["feed_ratings"], figures["rest"]["feed_likes"]) == (3, 3)
    assert ("channel", 1, 0) in [(row["kind"], row["feed_ratings"], row["feed_likes"]) for row in figures["by_lead"]]


async def test_nothing_asked_gives_no_rates(empty: Store) -> None:
    figures = await Analytics(empty).reasons(30)
    assert figures["explanations"] == 0 and figures["leads"] == [] and figures["by_lead"] == []
    assert figures["explained"]["like_rate"] is None and figures["rest"]["like_rate"] is None
