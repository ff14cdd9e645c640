"""The Telethon adapter against a fake Telegram: cursors, albums, media, FloodWaits, joins, listener."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import sqlalchemy as sa
from telethon.tl import types

from ppb.domain.channels import ChannelRef
from ppb.domain.errors import DomainError, NotFound
from ppb.scraper.errors import ChannelUnreadable, ScraperUnavailable
from ppb.scraper.session import Scraper
from ppb.store.queries import Store
from ppb.store.schema import channels, posts
from tests.conftest import eventually
from tests.fixtures.fake_telegram import FakeTelegram, audio, document, photo, poll, video, voice


class Clock:
    """A clock that moves only when the scraper's (fake) sleep is let through."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.gate = asyncio.Event()
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        await self.gate.wait()
        self.now += seconds


@pytest.fixture
async def make_scraper(store: Store) -> AsyncIterator[Callable[..., Scraper]]:
    made: list[Scraper] = []

    def make(world: FakeTelegram, **options: Any) -> Scraper:
        scraper = Scraper(store, world.client, name="test", **options)
        made.append(scraper)
        return scraper

    yield make
    for scraper in made:
        await scraper.close()


async def stored(store: Store, telegram_id: int) -> dict[int, dict[str, Any]]:
    channel = await store.get_channel(ChannelRef(telegram_id=telegram_id))
    records = await store.database.fetch_all(
        sa.select(posts.c.telegram_message_id, posts.c.text, posts.c.media_type).where(
            posts.c.channel_id == channel["id"]
        )
    )
    return {record[0]: {"text": record[1], "media_type": record[2]} for record in records}


def marked(bare_id: int) -> int:
    return -(10**12 + bare_id)


def channel_of(world: FakeTelegram, new_id: Callable[[], int], title: str = "News") -> types.Channel:
    bare = new_id()
    return world.add_channel(f"chan{bare}", title, bare)


async def test_first_scrape_takes_the_newest_then_only_what_is_new(store, make_scraper, new_id) -> None:
    world = FakeTelegram()
    channel = channel_of(world, new_id)
    for message_id in range(1, 11):
        world.post(channel, message_id, f"post number {message_id}")
    scraper = make_scraper(world)

    first = await scraper.scrape(f"@{channel.username}", 3)
    assert (first["posts_count"], first["created_count"]) == (3, 3)
    assert first["channel"]["telegram_id"] == marked(channel.id)
    assert set(await stored(store, marked(channel.id))) == {8, 9, 10}

    world.post(channel, 11, "eleven")
    world.post(channel, 12, "twelve")
    world.calls["messages_read"] = 0
    second = await scraper.scrape(channel.username.upper(), 3)
    assert (second["posts_count"], second["created_count"]) == (2, 2)
    assert world.calls["messages_read"] == 3  # from the cursor (10) on, not the whole history
    assert set(await stored(store, marked(channel.id))) == {8, 9, 10, 11, 12}

    again = await scraper.scrape(channel.username, 3)
    assert (again["posts_count"], again["created_count"]) == (0, 0)

    more = await scraper.scrape(channel.username, 7)  # asks for more than is stored: older ones
    assert more["created_count"] == 2 and more["stored_count"] == 7
    assert set(await stored(store, marked(channel.id))) == set(range(6, 13))


async def test_a_username_is_resolved_once_per_session(store, make_scraper, new_id) -> None:
    world = FakeTelegram()
    channel = channel_of(world, new_id)
    world.post(channel, 1, "hello")
    scraper = make_scraper(world)
    for name in (f"@{channel.username}", channel.username, f"https://t.me/{channel.username}"):
        await scraper.scrape(name, 5)
    await scraper.scrape(str(marked(channel.id)), 5)  # by -100… id once seen
    assert world.calls["get_entity"] == 1


async def test_an_album_is_one_post_even_across_reads(store, make_scraper, new_id) -> None:
    world = FakeTelegram()
    channel = channel_of(world, new_id)
    world.post(channel, 1, "before the album")
    world.post(channel, 2, "", media=photo(), grouped_id=77)
    world.post(channel, 3, "Three views of the bay", media=video(), grouped_id=77)
    world.post(channel, 4, "", media=photo(), grouped_id=77)
    scraper = make_scraper(world)

    first = await scraper.scrape(channel.username, 1)  # the newest post is the whole album
    assert first["posts_count"] == 1
    assert await stored(store, marked(channel.id)) == {
        2: {"text": "Three views of the bay", "media_type": "photo"}
    }
    world.post(channel, 5, "after the album")
    second = await scraper.scrape(channel.username, 1)
    assert second["created_count"] == 1
    assert set(await stored(store, marked(channel.id))) == {2, 5}  # no stray parts 3 or 4
    await scraper.scrape(channel.username, 3)
    assert set(await stored(store, marked(channel.id))) == {1, 2, 5}


async def test_media_types_and_text_meaning(store, make_scraper, new_id) -> None:
    world = FakeTelegram()
    channel = channel_of(world, new_id)
    world.post(channel, 1, "plain words")
    world.post(channel, 2, "a photo", media=photo())
    world.post(channel, 3, "a clip", media=video())
    world.post(channel, 4, "", media=voice())
    world.post(channel, 5, "a song", media=audio())
    world.post(channel, 6, "the report", media=document())
    world.post(channel, 7, "", media=poll("Tea or coffee?", "Tea", "Coffee"))
    link_text = "🚀 Launch: read the notes"
    entity = types.MessageEntityTextUrl(offset=len("🚀 Launch: read the ".encode("utf-16-le")) // 2, length=5,
                                        url="https://example.org/notes")
    world.post(channel, 8, link_text, entities=[entity, types.MessageEntityBold(offset=0, length=2)])
    world.service(channel, 9)
    world.post(channel, 10, "", media=types.MessageMediaGeo(geo=types.GeoPointEmpty()))  # nothing to show
    scraper = make_scraper(world)

    answer = await scraper.scrape(channel.username, 20)
    posts_by_id = await stored(store, marked(channel.id))
    assert answer["posts_count"] == 8
    assert {key: value["media_type"] for key, value in posts_by_id.items()} == {
        1: "text", 2: "photo", 3: "video", 4: "voice", 5: "audio", 6: "document", 7: "poll", 8: "text",
    }
    assert posts_by_id[7]["text"] == "Tea or coffee?\n• Tea\n• Coffee"
    assert posts_by_id[8]["text"] == "🚀 Launch: read the notes (https://example.org/notes)"


async def test_a_flood_wait_is_queued_and_waited_out(store, make_scraper, new_id) -> None:
    world = FakeTelegram()
    first, second = channel_of(world, new_id), channel_of(world, new_id)
    world.post(first, 1, "first channel post")
    world.post(second, 1, "second channel post")
    clock = Clock()
    scraper = make_scraper(world, clock=clock, sleep=clock.sleep)
    world.flood_next("iter_messages", 30)

    answer = await scraper.scrape(first.username, 5)
    assert answer["status"] == "flood_wait" and answer["flood_wait"] == 30 and answer["queued"]
    clock.now += 10
    queued = await scraper.scrape(second.username, 5)
    assert queued["status"] == "flood_wait" and queued["flood_wait"] == 20
    assert scraper.status()["queued"] == 2
    assert not await store.find_channels([ChannelRef(telegram_id=marked(second.id))])

    clock.gate.set()  # the wait is over: both queued scrapes run, in order

    async def both_stored() -> bool:
        found = await store.find_channels([ChannelRef(telegram_id=marked(second.id))])
        return bool(found) and bool(await stored(store, marked(second.id)))

    await eventually(both_stored, 10, "the queued scrapes to run after the FloodWait")
    assert set(await stored(store, marked(first.id))) == {1}
    assert clock.slept == [30.0]  # one wait for the whole queue, not one per job
    later = await scraper.scrape(first.username, 5)
    assert later["status"] == "ok"


async def test_unknown_private_and_non_channels_are_clear_errors(store, make_scraper, new_id) -> None:
    world = FakeTelegram()
    world.add_channel(f"secret{new_id()}", "Closed club", new_id())
    secret = next(iter(world.channels))
    world.private.add(secret)
    group = world.add_channel(f"group{new_id()}", "A chat", new_id(), megagroup=True)
    scraper = make_scraper(world)

    with pytest.raises(NotFound, match="not found on Telegram"):
        await scraper.scrape(f"@nobody{new_id()}", 5)
    with pytest.raises(ChannelUnreadable, match="private"):
        await scraper.scrape(secret, 5)
    with pytest.raises(ChannelUnreadable, match="not a channel"):
        await scraper.scrape(group.username, 5)
    with pytest.raises(ChannelUnreadable, match="channel_username"):
        await scraper.scrape("not a name!", 5)
    with pytest.raises(NotFound, match="numeric id"):
        await scraper.scrape("-1009999999999", 5)


async def test_join_then_new_posts_arrive_by_the_listener(store, make_scraper, new_id) -> None:
    world = FakeTelegram()
    channel = channel_of(world, new_id)
    world.post(channel, 1, "old news")
    scraper = make_scraper(world)

    joined = await scraper.join(f"@{channel.username}")
    assert joined["status"] == "joined" and joined["channel"]["username"] == channel.username
    assert (await scraper.join(channel.username))["status"] == "already_joined"

    reads = world.calls["iter_messages"]
    message = world.post(channel, 2, "fresh off the press")
    world.messages[channel.id].remove(message)
    await world.deliver(channel, message)
    assert (await stored(store, marked(channel.id)))[2]["text"] == "fresh off the press"
    assert world.calls["iter_messages"] == reads  # stored from the update, no request

    parts = [world.post(channel, 3, "", media=photo(), grouped_id=5), world.post(channel, 4, "pics", media=photo(), grouped_id=5)]
    for part in parts:
        world.messages[channel.id].remove(part)
    for part in parts:
        await world.deliver(channel, part)

    async def album_stored() -> bool:
        return 3 in await stored(store, marked(channel.id))

    await eventually(album_stored, 10, "the album to be fetched whole after its update")
    assert (await stored(store, marked(channel.id)))[3] == {"text": "pics", "media_type": "photo"}
    assert 4 not in await stored(store, marked(channel.id))


async def test_join_of_a_private_channel_is_refused(store, make_scraper, new_id) -> None:
    world = FakeTelegram()
    channel = channel_of(world, new_id)
    scraper = make_scraper(world)
    await scraper.scrape(channel.username, 1)  # resolved while still public, then made private
    world.private.add(channel.username)
    with pytest.raises(ChannelUnreadable, match="private"):
        await scraper.join(channel.username)


async def test_periodic_refresh_and_watching_after_a_restart(store, make_scraper, new_id) -> None:
    world = FakeTelegram()
    channel = channel_of(world, new_id)
    world.post(channel, 1, "first")
    scraper = make_scraper(world, refresh_interval=0.05)
    await scraper.join(channel.username)
    world.post(channel, 2, "posted while nobody listened")

    async def refreshed() -> bool:
        return set(await stored(store, marked(channel.id))) == {1, 2}

    await eventually(refreshed, 10, "the periodic refresh to store the new post")
    await scraper.close()

    restarted = make_scraper(world, refresh_interval=3600)
    await restarted.start()
    assert restarted.status()["watched"] == 1  # rebuilt from the session's dialogs and the store


async def test_a_logged_out_session_is_unavailable(store, make_scraper) -> None:
    world = FakeTelegram()
    world.authorized = False
    scraper = make_scraper(world)
    with pytest.raises(ScraperUnavailable, match="not logged in"):
        await scraper.scrape("@durov", 5)
    assert isinstance(ScraperUnavailable("x"), DomainError) and ScraperUnavailable.status_code == 503


async def test_a_posts_formatting_is_kept_as_telegram_html(store, make_scraper, new_id) -> None:
    world = FakeTelegram()
    channel = channel_of(world, new_id)

    def span(kind: type, text: str, fragment: str, **extra: Any) -> Any:
        before = text[: text.index(fragment)]
        return kind(offset=len(before.encode("utf-16-le")) // 2, length=len(fragment.encode("utf-16-le")) // 2, **extra)

    text = "🚀 Релиз 2.0 <beta> & notes: читать. Цитата\nconst a = b && c;"
    world.post(channel, 1, text, entities=[
        span(types.MessageEntityCustomEmoji, text, "🚀", document_id=5),
        span(types.MessageEntityBold, text, "Релиз 2.0 <beta>"),
        span(types.MessageEntityItalic, text, "2.0 <beta> & notes"),  # crosses the bold
        span(types.MessageEntityTextUrl, text, "читать", url="https://example.org/r?a=1&b=2"),
        span(types.MessageEntityBlockquote, text, "Цитата", collapsed=False),
        span(types.MessageEntityPre, text, "const a = b && c;", language="javascript"),
        span(types.MessageEntityMentionName, text, "notes", user_id=42),
    ])
    world.post(channel, 2, "no formatting <here>")
    await make_scraper(world).scrape(channel.username, 5)
    found = await store.database.fetch_all(
        sa.select(posts.c.telegram_message_id, posts.c.text, posts.c.html)
        .join(channels, channels.c.id == posts.c.channel_id).where(channels.c.telegram_id == marked(channel.id)))
    by_id = {row[0]: (row[1], row[2]) for row in found}
    assert by_id[1][0] == text.replace("читать", "читать (https://example.org/r?a=1&b=2)"), "plain text as before"
    assert by_id[1][1] == (
        '🚀 <b>Релиз <i>2.0 &lt;beta&gt;</i></b><i> &amp; notes</i>: '
        '<a href="https://example.org/r?a=1&amp;b=2">читать</a>. <blockquote>Цитата</blockquote>\n'
        '<pre><code class="language-javascript">const a = b &amp;&amp; c;</code></pre>')
    assert by_id[2] == ("no formatting <here>", None)
