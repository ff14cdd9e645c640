"""Demo channels: generated here, varied, loaded once however often the app starts."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime

import httpx
import numpy as np

from ppb.compose.core import build_services
from ppb.compose.web import http_app as build_app
from ppb.config import Settings, load_settings
from ppb.domain.channels import ChannelName
from ppb.ranking.features import vectorize
from ppb.ranking.model import DUPLICATE_SIMILARITY
from ppb.scraper.demo import DEMO_CHANNELS, DEMO_USERNAMES, POSTS_PER_CHANNEL, demo_posts, load_demo
from ppb.scraper.sync import channel_cursor

END = datetime(2026, 5, 1, 12, tzinfo=UTC)


def test_the_content_is_deterministic_varied_and_bilingual() -> None:
    assert len(DEMO_CHANNELS) >= 5 and len({c.username for c in DEMO_CHANNELS}) == len(DEMO_CHANNELS)
    every = {channel.username: demo_posts(channel, END) for channel in DEMO_CHANNELS}
    assert every == {channel.username: demo_posts(channel, END) for channel in DEMO_CHANNELS}
    total = sum(len(posts) for posts in every.values())
    assert total >= 100
    media = Counter(post.media_type for posts in every.values() for post in posts)
    assert set(media) == {"text", "photo", "video", "document", "audio", "voice", "poll"}
    russian = [c for c in DEMO_CHANNELS if c.language == "ru"]
    assert russian and all(
        any("а" <= ch <= "я" for ch in post.text.lower()) for c in russian for post in every[c.username]
    )
    for posts in every.values():
        assert [post.telegram_message_id for post in posts] == list(range(1, len(posts) + 1))
        assert all(post.posted_at <= END and post.text for post in posts)

def test_no_two_demo_posts_are_near_copies_or_template_siblings() -> None:
    """Posts of one template read as copies to a person: each template gives one post, and no
    two posts anywhere are as close as the ranker's duplicate threshold."""
    posts = [post for channel in DEMO_CHANNELS for post in demo_posts(channel, END)]
    vectors = vectorize([post.text for post in posts])
    similarity = (vectors @ vectors.T).toarray()
    np.fill_diagonal(similarity, 0)
    assert similarity.max() < DUPLICATE_SIMILARITY  # the feed would fold near-copies away
    heads = vectorize([post.text.split("\n")[0].split(". ")[0] for post in posts])
    head_similarity = (heads @ heads.T).toarray()
    np.fill_diagonal(head_similarity, 0)
    assert head_similarity.max() < DUPLICATE_SIMILARITY / 2, "two posts share a head template"
    for channel in DEMO_CHANNELS:
        assert len(channel.heads) == len(set(channel.heads)) >= POSTS_PER_CHANNEL


def test_demo_english_says_an_before_a_vowel() -> None:
    english = [post.text for channel in DEMO_CHANNELS if channel.language == "en" for post in demo_posts(channel, END)]
    assert not [text for text in english if re.search(r"\b[Aa] [aeiouAEIOU]", text)]


def test_demo_mode_trains_on_demo_channels_unless_told_otherwise(monkeypatch) -> None:
    monkeypatch.delenv("DEFAULT_CHANNELS", raising=False)
    assert load_settings().effective_default_channels == list(DEMO_USERNAMES)
    assert load_settings(PPB_DEMO_DATA="0").effective_default_channels == ["@durov", "@telegram"]
    assert load_settings(DEFAULT_CHANNELS="@a_chan,@b_chan").effective_default_channels == ["@a_chan", "@b_chan"]
    configured = load_settings(TELETHON_SESSION="s", TELEGRAM_API_ID="1", TELEGRAM_API_HASH="h")
    assert not configured.use_demo_data and configured.effective_default_channels == ["@durov", "@telegram"]


async def test_loading_is_idempotent(store) -> None:
    await load_demo(store, END)
    assert await load_demo(store, END) == 0
    for channel in DEMO_CHANNELS:
        row = await store.get_channel(ChannelName(username=channel.username))
        assert row["telegram_id"] == channel.telegram_id
        assert (await channel_cursor(store, row["id"])).count == POSTS_PER_CHANNEL


async def test_the_app_loads_demo_data_at_start_and_trains_on_it(settings: Settings, api: httpx.AsyncClient, new_id) -> None:
    own = build_services(settings)  # its own store: the lifespan connects and closes it
    app = build_app(settings, own)
    async with app.router.lifespan_context(app):
        assert await load_demo(own.store) == 0  # the start-up already loaded everything
    user = new_id()
    await api.post("/api/v1/users/", json={"telegram_id": user})
    response = await api.post(
        "/api/v1/posts/training",
        json={"user_telegram_id": user, "channel_usernames": settings.effective_default_channels, "posts_per_channel": 7},
    )
    assert response.status_code == 200, response.text
    got = Counter(post["channel_username"] for post in response.json()["posts"])
    assert got == {channel.username: 7 for channel in DEMO_CHANNELS}
