"""The scraper on a real Telethon client, Telegram replaced at the MTProto request level
(`tests/telegram_stand.py`): paging, albums, media, formatting, FloodWaits, joins, updates,
edits, deletions, channels that change, and a session Telegram stops accepting."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import sqlalchemy as sa
from telethon.tl import types

from ppb import metrics
from ppb.domain.channels import ChannelName
from ppb.domain.interactions import InteractionType
from ppb.domain.errors import DomainError, NotFound
from ppb.http.errors import status_of
from ppb.scraper.errors import ChannelPrivate, ChannelUnreadable, ScraperUnavailable
from ppb.scraper.session import Scraper
from ppb.store.queries import Store
from ppb.store.schema import channels, posts
from tests.conftest import eventually
from tests.telegram_stand import (
    Account,
    TelegramStand,
    audio,
    document,
    marked,
    photo,
    poll,
    scraper_clients,
    video,
    voice,
)


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


class Rig:
    """A stand, its account's session, and scrapers on it (closed after the test)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.stand = TelegramStand()
        self.account: Account = self.stand.add_account()
        self.session = self.stand.session_string(self.account)
        self.made: list[Scraper] = []

    def scraper(self, **options: Any) -> Scraper:
        scraper = Scraper(self.store, scraper_clients(self.stand, self.session), name="test", **options)
        self.made.append(scraper)
        return scraper

    def channel(self, new_id: Callable[[], int], title: str = "News", **options: Any) -> Any:
        bare = new_id()
        return self.stand.add_channel(f"chan{bare}", title, bare_id=bare, **options)


@pytest.fixture
async def rig(store: Store) -> AsyncIterator[Rig]:
    made = Rig(store)
    yield made
    for scraper in made.made:
        await scraper.close()


async def stored(store: Store, telegram_id: int) -> dict[int, dict[str, Any]]:
    channel = await store.get_channel(ChannelName(telegram_id=telegram_id))
    records = await store.database.fetch_all(
        sa.select(posts.c.telegram_message_id, posts.c.text, posts.c.media_type, posts.c.html, posts.c.id,
                  posts.c.created_at, posts.c.edited_at, posts.c.deleted_at)
        .where(posts.c.channel_id == channel["id"])
    )
    return {record[0]: {"text": record[1], "media_type": record[2], "html": record[3], "id": record[4],
                        "created_at": record[5], "edited_at": record[6], "deleted_at": record[7]}
            for record in records}


def offsets(stand: TelegramStand) -> list[tuple[int, int, int]]:
    """(offset_id, add_offset, limit) of every messages.getHistory asked, in order."""
    return [(r.offset_id, r.add_offset, r.limit) for r in stand.history_requests]


async def test_starting_asks_telegram_what_telethon_asks_on_connect(rig: Rig) -> None:
    scraper = rig.scraper()
    await scraper.start()
    assert dict(rig.stand.calls) == {
        "InvokeWithLayer": 1, "InitConnection": 1, "help.GetConfig": 1,  # connect()
        "users.GetUsers": 1, "updates.GetState": 1, "updates.GetDifference": 1,  # get_me, then its update state
        "messages.GetDialogs": 1,  # the joined channels, watched again after a restart
    }
    assert scraper.status() == {"name": "test", "started": True, "watched": 0, "queued": 0, "flood_wait": 0,
                                "problem": None}


async def test_first_scrape_takes_the_newest_then_only_what_is_new(rig: Rig, new_id) -> None:
    channel = rig.channel(new_id)
    for number in range(1, 11):
        rig.stand.post(channel, f"post number {number}")
    scraper = rig.scraper()

    first = await scraper.scrape(f"@{channel.username}", 3)
    assert (first["posts_count"], first["created_count"]) == (3, 3)
    assert first["channel"]["telegram_id"] == channel.marked_id
    assert set(await stored(rig.store, channel.marked_id)) == {8, 9, 10}

    rig.stand.post(channel, "eleven")
    rig.stand.post(channel, "twelve")
    rig.stand.history_requests.clear()
    second = await scraper.scrape(channel.username.upper(), 3)
    assert (second["posts_count"], second["created_count"]) == (2, 2)
    # one page forward from the newest stored post (10), and an empty one after it
    assert offsets(rig.stand) == [(10, -100, 100), (13, -100, 100)]
    assert set(await stored(rig.store, channel.marked_id)) == {8, 9, 10, 11, 12}

    again = await scraper.scrape(channel.username, 3)
    assert (again["posts_count"], again["created_count"]) == (0, 0)

    more = await scraper.scrape(channel.username, 7)  # asks for more than is stored: older ones
    assert more["created_count"] == 2 and more["stored_count"] == 7
    assert set(await stored(rig.store, channel.marked_id)) == set(range(6, 13))


async def test_a_username_is_resolved_once_per_session(rig: Rig, new_id) -> None:
    channel = rig.channel(new_id)
    rig.stand.post(channel, "hello")
    scraper = rig.scraper()
    for name in (f"@{channel.username}", channel.username, f"https://t.me/{channel.username}"):
        await scraper.scrape(name, 5)
    await scraper.scrape(str(channel.marked_id), 5)  # by -100… id once seen
    assert rig.stand.calls["contacts.ResolveUsername"] == 1


async def test_a_long_history_is_read_in_pages_of_a_hundred(rig: Rig, new_id) -> None:
    channel = rig.channel(new_id)
    for number in range(1, 1096):
        if number == 899:  # an album across the second page's end (ids 901..802)
            rig.stand.album(channel, "A wide album", photo(), photo(), video(), photo(), photo())
        elif not 899 < number < 904:
            rig.stand.post(channel, f"post {number}")
    scraper = rig.scraper()

    answer = await scraper.scrape(channel.username, 1000)
    assert answer["posts_count"] == 1000 and answer["created_count"] == 1000
    pages = offsets(rig.stand)
    assert all(limit == 100 and add == 0 for _, add, limit in pages), pages
    starts = [offset for offset, _, _ in pages]
    assert starts == [0] + [channel.last_id - 100 * n + 1 for n in range(1, len(pages))], "each page from the last"
    assert len(pages) == 11  # 1,000 posts (one an album of 5) and the next group: 1,005 messages
    kept = await stored(rig.store, channel.marked_id)
    assert len(kept) == 1000
    assert kept[899] == {**kept[899], "text": "A wide album", "media_type": "photo"}
    assert not {900, 901, 902, 903} & set(kept), "an album's other parts are not posts"


async def test_an_album_is_one_post_even_across_reads(rig: Rig, new_id) -> None:
    channel = rig.channel(new_id)
    rig.stand.post(channel, "before the album")
    rig.stand.album(channel, "Three views of the bay", photo(), video(), photo())
    scraper = rig.scraper()

    first = await scraper.scrape(channel.username, 1)  # the newest post is the whole album
    assert first["posts_count"] == 1
    assert {key: (v["text"], v["media_type"]) for key, v in (await stored(rig.store, channel.marked_id)).items()} == {
        2: ("Three views of the bay", "photo")}
    rig.stand.post(channel, "after the album")
    second = await scraper.scrape(channel.username, 1)
    assert second["created_count"] == 1
    assert set(await stored(rig.store, channel.marked_id)) == {2, 5}  # no stray parts 3 or 4
    await scraper.scrape(channel.username, 3)
    assert set(await stored(rig.store, channel.marked_id)) == {1, 2, 5}


async def test_media_types_and_text_meaning(rig: Rig, new_id) -> None:
    channel = rig.channel(new_id)
    rig.stand.post(channel, "plain words")
    rig.stand.post(channel, "a photo", media=photo())
    rig.stand.post(channel, "a clip", media=video())
    rig.stand.post(channel, "", media=voice())
    rig.stand.post(channel, "a song", media=audio())
    rig.stand.post(channel, "the report", media=document())
    rig.stand.post(channel, "", media=poll("Tea or coffee?", "Tea", "Coffee"))
    link_text = "🚀 Launch: read the notes"
    entity = types.MessageEntityTextUrl(offset=len("🚀 Launch: read the ".encode("utf-16-le")) // 2, length=5,
                                        url="https://example.org/notes")
    rig.stand.post(channel, link_text, entities=[entity, types.MessageEntityBold(offset=0, length=2)])
    rig.stand.service(channel)
    rig.stand.post(channel, "", media=types.MessageMediaGeo(geo=types.GeoPointEmpty()))  # nothing to show
    scraper = rig.scraper()

    answer = await scraper.scrape(channel.username, 20)
    found = await stored(rig.store, channel.marked_id)
    assert answer["posts_count"] == 8
    assert {key: value["media_type"] for key, value in found.items()} == {
        1: "text", 2: "photo", 3: "video", 4: "voice", 5: "audio", 6: "document", 7: "poll", 8: "text",
    }
    assert found[7]["text"] == "Tea or coffee?\n• Tea\n• Coffee"
    assert found[8]["text"] == "🚀 Launch: read the notes (https://example.org/notes)"


async def test_a_posts_formatting_is_kept_as_telegram_html(rig: Rig, new_id) -> None:
    channel = rig.channel(new_id)

    def span(kind: type, text: str, fragment: str, **extra: Any) -> Any:
        before = text[: text.index(fragment)]
        return kind(offset=len(before.encode("utf-16-le")) // 2, length=len(fragment.encode("utf-16-le")) // 2, **extra)

    text = "🚀 Релиз 2.0 <beta> & notes: читать. Цитата\nconst a = b && c;"
    rig.stand.post(channel, text, entities=[
        span(types.MessageEntityCustomEmoji, text, "🚀", document_id=5),
        span(types.MessageEntityBold, text, "Релиз 2.0 <beta>"),
        span(types.MessageEntityItalic, text, "2.0 <beta> & notes"),  # crosses the bold
        span(types.MessageEntityTextUrl, text, "читать", url="https://example.org/r?a=1&b=2"),
        span(types.MessageEntityBlockquote, text, "Цитата", collapsed=False),
        span(types.MessageEntityPre, text, "const a = b && c;", language="javascript"),
        span(types.MessageEntityMentionName, text, "notes", user_id=42),
    ])
    rig.stand.post(channel, "no formatting <here>")
    await rig.scraper().scrape(channel.username, 5)
    found = await rig.store.database.fetch_all(
        sa.select(posts.c.telegram_message_id, posts.c.text, posts.c.html)
        .join(channels, channels.c.id == posts.c.channel_id).where(channels.c.telegram_id == channel.marked_id))
    by_id = {row[0]: (row[1], row[2]) for row in found}
    assert by_id[1][0] == text.replace("читать", "читать (https://example.org/r?a=1&b=2)"), "plain text as before"
    assert by_id[1][1] == (
        '🚀 <b>Релиз <i>2.0 &lt;beta&gt;</i></b><i> &amp; notes</i>: '
        '<a href="https://example.org/r?a=1&amp;b=2">читать</a>. <blockquote>Цитата</blockquote>\n'
        '<pre><code class="language-javascript">const a = b &amp;&amp; c;</code></pre>')
    assert by_id[2] == ("no formatting <here>", None)


async def test_a_flood_wait_is_queued_and_waited_out(rig: Rig, new_id) -> None:
    first, second = rig.channel(new_id), rig.channel(new_id)
    rig.stand.post(first, "first channel post")
    rig.stand.post(second, "second channel post")
    clock = Clock()
    scraper = rig.scraper(clock=clock, sleep=clock.sleep)
    rig.stand.fail_next("messages.GetHistory", "FLOOD_WAIT_3")

    answer = await scraper.scrape(first.username, 5)
    assert answer["status"] == "flood_wait" and answer["flood_wait"] == 3 and answer["queued"]
    clock.now += 1
    queued = await scraper.scrape(second.username, 5)
    assert queued["status"] == "flood_wait" and queued["flood_wait"] == 2
    assert scraper.status()["queued"] == 2
    assert not await rig.store.find_channels([ChannelName(telegram_id=second.marked_id)])

    clock.gate.set()  # the wait is over: both queued scrapes run, in order

    async def both_stored() -> bool:
        found = await rig.store.find_channels([ChannelName(telegram_id=second.marked_id)])
        return bool(found) and bool(await stored(rig.store, second.marked_id))

    await eventually(both_stored, 10, "the queued scrapes to run after the FloodWait")
    assert set(await stored(rig.store, first.marked_id)) == {1}
    assert clock.slept == [3.0]  # one wait for the whole queue, not one per job
    later = await scraper.scrape(first.username, 5)
    assert later["status"] == "ok"


async def test_a_flood_wait_on_history_resumes_from_the_page_it_stopped_at(rig: Rig, new_id) -> None:
    channel = rig.channel(new_id)
    for number in range(1, 351):
        rig.stand.post(channel, f"story {number}")
    clock = Clock()
    scraper = rig.scraper(clock=clock, sleep=clock.sleep)
    rig.stand.fail_next("messages.GetHistory", "FLOOD_WAIT_3", after=2)  # the third page

    answer = await scraper.scrape(channel.username, 300)
    assert answer["status"] == "flood_wait" and answer["flood_wait"] == 3
    assert offsets(rig.stand) == [(0, 0, 100), (251, 0, 100), (151, 0, 100)]
    clock.gate.set()

    async def all_stored() -> bool:
        return len(await stored(rig.store, channel.marked_id)) == 300

    await eventually(all_stored, 10, "the scrape to go on after the FloodWait")
    # the refused page asked again, then the next: no page read twice
    assert offsets(rig.stand) == [(0, 0, 100), (251, 0, 100), (151, 0, 100), (151, 0, 100), (51, 0, 100)]
    assert min(await stored(rig.store, channel.marked_id)) == 51


async def test_a_flood_wait_on_join_is_waited_out(rig: Rig, new_id) -> None:
    channel = rig.channel(new_id)
    rig.stand.post(channel, "old news")
    clock = Clock()
    scraper = rig.scraper(clock=clock, sleep=clock.sleep)
    rig.stand.fail_next("channels.JoinChannel", "FLOOD_WAIT_3")

    answer = await scraper.join(f"@{channel.username}")
    assert answer["status"] == "flood_wait" and answer["queued"] is True
    assert rig.account.id not in channel.members
    clock.gate.set()

    async def joined() -> bool:
        return rig.account.id in channel.members and scraper.status()["watched"] == 1

    await eventually(joined, 10, "the join to run after the FloodWait")
    assert rig.stand.calls["channels.JoinChannel"] == 2 and rig.stand.calls["contacts.ResolveUsername"] == 1
    assert (await scraper.join(channel.username))["status"] == "already_joined"


async def test_unknown_private_and_non_channels_are_clear_errors(rig: Rig, new_id) -> None:
    closed = rig.channel(new_id, "Closed club")
    rig.stand.ban(closed, rig.account)
    group = rig.channel(new_id, "A chat", megagroup=True)
    scraper = rig.scraper()

    with pytest.raises(NotFound, match="not found on Telegram"):
        await scraper.scrape(f"@nobody{new_id()}", 5)
    with pytest.raises(ChannelPrivate, match="private"):
        await scraper.scrape(closed.username, 5)
    with pytest.raises(ChannelUnreadable, match="not a channel"):
        await scraper.scrape(group.username, 5)
    with pytest.raises(ChannelUnreadable, match="channel_username"):
        await scraper.scrape("not a name!", 5)
    with pytest.raises(NotFound, match="numeric id"):
        await scraper.scrape("-1009999999999", 5)
    assert status_of(ChannelPrivate("x")) == 403  # the REST API answers it 403


async def test_join_then_new_posts_arrive_as_updates(rig: Rig, new_id) -> None:
    channel = rig.channel(new_id)
    rig.stand.post(channel, "old news")
    scraper = rig.scraper()

    joined = await scraper.join(f"@{channel.username}")
    assert joined["status"] == "joined" and joined["channel"]["username"] == channel.username
    assert (await scraper.join(channel.username))["status"] == "already_joined"

    reads = rig.stand.calls["messages.GetHistory"]
    rig.stand.post(channel, "fresh off the press")  # Telegram sends UpdateNewChannelMessage

    async def has(message_id: int) -> bool:
        return message_id in await stored(rig.store, channel.marked_id)

    await eventually(lambda: has(2), 10, "the new post to be stored from its update")
    assert (await stored(rig.store, channel.marked_id))[2]["text"] == "fresh off the press"
    assert rig.stand.calls["messages.GetHistory"] == reads  # stored from the update, no request

    rig.stand.album(channel, "pics", photo(), photo())
    await eventually(lambda: has(3), 10, "the album to be fetched whole after its updates")
    found = await stored(rig.store, channel.marked_id)
    assert (found[3]["text"], found[3]["media_type"]) == ("pics", "photo") and 4 not in found

    rig.stand.post(channel, "sent while the update was lost", push=False)  # a gap in the channel's pts
    rig.stand.post(channel, "the next one")
    await eventually(lambda: has(6), 10, "the post after the gap")
    await eventually(lambda: has(5), 10, "the missed post, fetched by Telethon's getChannelDifference")
    assert rig.stand.calls["updates.GetChannelDifference"] >= 1


async def test_join_of_a_channel_that_became_private_is_refused(rig: Rig, new_id) -> None:
    channel = rig.channel(new_id)
    rig.stand.post(channel, "public for now")
    scraper = rig.scraper()
    name = channel.username
    await scraper.scrape(name, 1)  # resolved while still public, then made private
    rig.stand.make_private(channel)
    with pytest.raises(ChannelPrivate, match="private"):
        await scraper.join(name)
    assert rig.account.id not in channel.members


async def test_periodic_refresh_and_watching_after_a_restart(rig: Rig, new_id) -> None:
    channel = rig.channel(new_id)
    rig.stand.post(channel, "first")
    scraper = rig.scraper(refresh_interval=0.05)
    await scraper.join(channel.username)
    rig.stand.post(channel, "posted while nobody listened", push=False)

    async def refreshed() -> bool:
        return set(await stored(rig.store, channel.marked_id)) == {1, 2}

    await eventually(refreshed, 10, "the periodic refresh to store the new post")
    await scraper.close()

    restarted = rig.scraper(refresh_interval=3600)
    await restarted.start()
    assert restarted.status()["watched"] == 1  # rebuilt from the session's dialogs and the store
    assert rig.stand.calls["messages.GetDialogs"] >= 2


async def test_an_edited_post_follows_in_text_and_formatting(rig: Rig, new_id) -> None:
    channel = rig.channel(new_id)
    rig.stand.post(channel, "Go 1.22 is out")
    rig.stand.album(channel, "Harbour photos", photo(), photo())
    scraper = rig.scraper()
    await scraper.join(channel.username)
    await scraper.scrape(channel.username, 5)
    before = await stored(rig.store, channel.marked_id)

    rig.stand.edit(channel, 1, "Go 1.22 is out: faster builds", entities=[types.MessageEntityBold(offset=0, length=7)])
    rig.stand.edit(channel, 3, "Harbour photos, with captions")  # the album's second part

    async def edited() -> bool:
        now = await stored(rig.store, channel.marked_id)
        return now[1]["text"].endswith("faster builds") and "with captions" in now[2]["text"]

    await eventually(edited, 10, "both edits to reach the store")
    after = await stored(rig.store, channel.marked_id)
    assert after[1]["html"] == "<b>Go 1.22</b> is out: faster builds"
    assert after[2]["text"] == "Harbour photos\n\nHarbour photos, with captions"
    for key in (1, 2):  # the same post: same id, same arrival (so it is not delivered again)
        assert (after[key]["id"], after[key]["created_at"]) == (before[key]["id"], before[key]["created_at"])
        assert after[key]["edited_at"] is not None
    assert set(after) == {1, 2}

    # an edit Telegram sent no update for is picked up when the post is read again (every
    # scrape reads forward from the newest stored post, the album here, inclusive)
    rig.stand.edit(channel, 2, "Harbour photos (corrected)", push=False)
    await scraper.scrape(channel.username, 5)
    assert (await stored(rig.store, channel.marked_id))[2]["text"] == "Harbour photos (corrected)\n\nHarbour photos, with captions"


async def test_a_deleted_post_is_marked_and_its_rating_kept(rig: Rig, new_id) -> None:
    channel = rig.channel(new_id)
    for number in range(1, 4):
        rig.stand.post(channel, f"story {number}")
    scraper = rig.scraper()
    await scraper.join(channel.username)
    await scraper.scrape(channel.username, 5)
    row = await rig.store.get_channel(ChannelName(telegram_id=channel.marked_id))
    user, _ = await rig.store.upsert_user(new_id(), None, "Ann", None)
    post_id = (await stored(rig.store, channel.marked_id))[2]["id"]
    await rig.store.rate(user["telegram_id"], post_id, InteractionType.LIKE)

    rig.stand.delete(channel, 2)

    async def marked_deleted() -> bool:
        return (await stored(rig.store, channel.marked_id))[2]["deleted_at"] is not None

    await eventually(marked_deleted, 10, "the deletion to reach the store")
    latest = await rig.store.latest_posts([row["id"]], 10)
    assert [post["telegram_message_id"] for post in latest] == [3, 1]
    assert await rig.store.feed_posts([post_id]) == []
    assert [key["post_id"] for key in await rig.store.rating_keys(user["id"])] == [post_id], "the rating stays"
    assert await rig.store.rating_count(user["id"]) == 1


async def test_a_channel_made_private_or_deleted_is_let_go(rig: Rig, new_id, caplog) -> None:
    scraped, banned, deleted = rig.channel(new_id), rig.channel(new_id), rig.channel(new_id)
    for channel in (scraped, banned, deleted):
        rig.stand.post(channel, "a post that stays stored")
    scraper = rig.scraper()
    await scraper.scrape(scraped.username, 5)  # read, not joined
    for channel in (banned, deleted):
        await scraper.join(channel.username)
        await scraper.scrape(channel.username, 5)
    assert scraper.status()["watched"] == 2
    caplog.set_level(logging.WARNING, "ppb.scraper")

    rig.stand.make_private(scraped)
    with pytest.raises(ChannelPrivate, match="private"):
        await scraper.scrape(str(scraped.marked_id), 5)

    rig.stand.ban(banned, rig.account)  # Telegram sends UpdateChannel; the scraper asks again

    async def let_go() -> bool:
        return scraper.status()["watched"] == 1

    await eventually(let_go, 10, "the banned channel to be let go")
    rig.stand.delete_channel(deleted)

    async def all_let_go() -> bool:
        return scraper.status()["watched"] == 0

    await eventually(all_let_go, 10, "the deleted channel to be let go")
    with pytest.raises(NotFound):
        await scraper.scrape(str(deleted.marked_id), 5)
    for channel in (scraped, banned, deleted):
        assert len(await stored(rig.store, channel.marked_id)) == 1, "stored posts stay"
    assert "no longer watched" in caplog.text


async def test_a_username_change_follows(rig: Rig, new_id) -> None:
    joined, read = rig.channel(new_id), rig.channel(new_id)
    for channel in (joined, read):
        rig.stand.post(channel, "before the rename")
    scraper = rig.scraper()
    await scraper.join(joined.username)
    await scraper.scrape(joined.username, 5)
    await scraper.scrape(read.username, 5)
    old_joined, old_read = joined.username, read.username

    rig.stand.rename(joined, f"renamed{new_id()}")  # members hear of it: UpdateChannel

    async def follows() -> bool:
        row = await rig.store.get_channel(ChannelName(telegram_id=joined.marked_id))
        return row["username"] == joined.username

    await eventually(follows, 10, "the store to take the joined channel's new username")
    rig.stand.post(joined, "after the rename")
    again = await scraper.scrape(f"@{joined.username}", 5)
    assert again["channel"]["telegram_id"] == joined.marked_id and again["created_count"] <= 1
    with pytest.raises(NotFound):
        await scraper.scrape(f"@{old_joined}", 5)

    rig.stand.rename(read, f"renamed{new_id()}")  # not a member: no update; the next read shows it
    rig.stand.post(read, "after the rename")
    await scraper.scrape(str(read.marked_id), 5)
    row = await rig.store.get_channel(ChannelName(telegram_id=read.marked_id))
    assert row["username"] == read.username != old_read
    assert len(await stored(rig.store, read.marked_id)) == 2


async def test_a_revoked_session_is_an_operator_error_said_once(rig: Rig, new_id, caplog) -> None:
    channel = rig.channel(new_id)
    rig.stand.post(channel, "read before the session was ended")
    scraper = rig.scraper()
    await scraper.scrape(channel.username, 5)
    caplog.set_level(logging.WARNING, "ppb.scraper")

    rig.stand.revoke(rig.session)  # terminated in Settings > Devices
    rig.stand.post(channel, "never read")
    with pytest.raises(ScraperUnavailable) as raised:
        await scraper.scrape(channel.username, 5)
    assert "TELETHON_SESSION is no longer logged in (AUTH_KEY_UNREGISTERED)" in raised.value.detail
    assert "ppb telegram-login" in raised.value.detail
    asked = sum(rig.stand.calls.values())
    with pytest.raises(ScraperUnavailable, match="no longer logged in"):
        await scraper.join(channel.username)
    assert sum(rig.stand.calls.values()) == asked, "a dead session is not asked again"
    status = scraper.status()
    assert status["started"] is False and "AUTH_KEY_UNREGISTERED" in status["problem"]
    errors = [r for r in caplog.records if r.levelno == logging.ERROR and "no longer logged in" in r.getMessage()]
    assert len(errors) == 1
    assert 'ppb_scraper_logged_in{session="test"} 0.0' in metrics.local_text().decode()
    assert len(await stored(rig.store, channel.marked_id)) == 1


async def test_a_session_revoked_before_start_is_unavailable(rig: Rig) -> None:
    rig.stand.revoke(rig.session)
    scraper = rig.scraper()
    with pytest.raises(ScraperUnavailable, match="no longer logged in"):
        await scraper.scrape("@durov", 5)
    assert isinstance(ScraperUnavailable("x"), DomainError) and status_of(ScraperUnavailable("x")) == 503
    assert scraper.status()["problem"] is not None
