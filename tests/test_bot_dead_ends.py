"""No dead ends and no blame in the chat (issue 27, item 7), through the sandbox with the real
bot: /help names every command, a second "delete everything" is harmless, a blocked person is
told plainly, and the feed calls a channel "rated down" only for real dislikes, once."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from ppb.bot.app import COMMANDS
from ppb.config import load_settings
from tests.bot_helpers import Harness, buttons, running_bot, wait_for
from tests.ports import free_port
from tests.test_bot_flows import train

API_KEY = "test-api-key"


@pytest.fixture(scope="module")
async def harness(sqlite_url: str) -> AsyncIterator[Harness]:
    settings = load_settings(
        DATABASE_URL=sqlite_url, PPB_API_KEY=API_KEY, PPB_HTTP_PORT=free_port(), PPB_DEMO_DATA=True,
        DEFAULT_CHANNELS="@ppb_demo_tech,@ppb_demo_kino", POSTS_PER_CHANNEL=3, PPB_MAX_BONUS_CHANNELS=1,
    )
    async with running_bot(settings, API_KEY) as running:
        yield running


@pytest.mark.parametrize(("language", "heading"), [("en", "❓ Help"), ("ru", "❓ Помощь")])
async def test_help_names_every_command_of_the_bots_menu(harness: Harness, new_id, language: str,
                                                         heading: str) -> None:
    person = harness.person(new_id(), language_code=language)
    await person.say("/start")
    await person.find_button("🚀")
    await person.say("/help")
    shown = (await person.wait_text(heading))["text"]
    missing = [command for command, _ in COMMANDS[language] if f"/{command}" not in shown]
    assert missing == [], f"/help omits {missing}: {shown}"


async def test_a_second_press_of_delete_everything_is_harmless(harness: Harness, new_id) -> None:
    person = harness.person(new_id())
    await person.say("/start")
    await person.find_button("🚀")
    await person.say("/delete")
    ask = await person.wait_text("Delete everything I keep about you")
    data = next(b["callback_data"] for row in ask["reply_markup"]["inline_keyboard"] for b in row
                if b["text"] == "🗑 Yes, delete everything")
    await person.press(ask["message_id"], data)
    await person.press(ask["message_id"], data)  # a double tap: both arrive before the prompt goes
    await person.wait_text("everything about you is deleted")

    async def both_answered() -> list[str] | None:
        answers = (await person.chat())["answers"]
        return [a.get("text") or "" for a in answers] if len(answers) >= 2 else None

    answers = await wait_for(both_answered, 15, "both presses answered")
    texts = [m["text"] or "" for m in await person.bot_messages()]
    assert not any("went wrong" in text for text in texts + answers), (texts, answers)
    response = await harness.client.get(f"/api/v1/users/{person.user_id}")
    assert response.status_code == 404


async def test_a_blocked_person_is_told_so_plainly(harness: Harness, new_id) -> None:
    person = harness.person(new_id())
    await train(harness, person)
    blocked = await harness.client.post(f"/api/v1/admin/users/{person.user_id}/block", json={"reason": "spam"})
    assert blocked.status_code == 200, blocked.text
    await person.say("/feed")
    told = await person.wait_text("blocked your account")
    assert "try again" not in told["text"].lower()
    texts = [m["text"] or "" for m in await person.bot_messages()]
    assert not any("went wrong" in text for text in texts), texts
    assert "🚀" not in "".join(buttons(told))


async def test_the_sandbox_says_it_knows_only_its_demo_channels_and_which(harness: Harness, new_id) -> None:
    person = harness.person(new_id())
    await person.say("/start")
    await person.find_button("🚀")
    await person.say("@durov")
    told = await person.wait_text("This is the sandbox")
    assert "can't add @durov" in told["text"] and "Check the name" not in told["text"]
    offered = [name for name in ("@ppb_demo_science", "@ppb_demo_travel", "@ppb_demo_dengi") if name in told["text"]]
    assert offered == ["@ppb_demo_science", "@ppb_demo_travel", "@ppb_demo_dengi"], told["text"]
    assert "@ppb_demo_tech" not in told["text"], "a default channel is no news"
    await person.say("@ppb_demo_science")
    await person.wait_text("✅ @ppb_demo_science added")


async def test_a_default_channel_can_leave_the_feed_and_come_back(harness: Harness, new_id) -> None:
    person = harness.person(new_id())
    await train(harness, person)
    await person.say("/menu")
    await person.tap("My channels")
    listing = await person.wait_text("Your channels")
    assert "❌ Remove @ppb_demo_kino" in buttons(listing), buttons(listing)
    await person.tap("❌ Remove @ppb_demo_kino")
    await wait_for(lambda: _without(harness, person.user_id, "ppb_demo_kino"), 15, "the channel unlinked")
    await harness.api("POST", f"/users/{person.user_id}/training", {})  # a new training: defaults linked
    started = await harness.api("GET", f"/users/{person.user_id}/training?limit=100")
    assert started["total"] > 0
    kino = {post["channel_username"] for post in started["posts"]}
    assert "ppb_demo_kino" not in kino, "a removed default channel is not linked again by a new training"
    assert await _without(harness, person.user_id, "ppb_demo_kino")
    await person.say("@ppb_demo_kino")
    await person.wait_text("✅ @ppb_demo_kino is one of the channels everyone gets")
    assert not await _without(harness, person.user_id, "ppb_demo_kino"), "asked for again: back in the feed"


async def _without(harness: Harness, telegram_id: int, name: str) -> bool:
    channels = (await harness.api("GET", f"/users/{telegram_id}/channels"))["channels"]
    return name not in {channel["username"] for channel in channels}


TOPICS = {
    "dead_like": ("Garden", ["Tomatoes love a sunny wall", "Prune roses after the last frost", "Compost needs air and water",
                             "Plant garlic cloves in October", "Slugs hate copper tape round the beds"]),
    "dead_skip": ("Weather", ["Forecast: fog on the coast by dawn", "Forecast: a warm front brings drizzle",
                              "Forecast: gusts up to sixty on the hills", "Forecast: frost in the valleys tonight",
                              "Forecast: a dry and bright weekend ahead", "Forecast: hail is likely by the evening"]),
    "dead_down": ("Markets", ["Market wrap: bond yields climb for a third week", "Market wrap: the central bank keeps its rate",
                              "Market wrap: oil futures slide on weak demand", "Market wrap: chipmaker shares jump on earnings",
                              "Market wrap: currency traders brace for jobs data", "Market wrap: gold steadies near its record",
                              "Market wrap: retail sales beat forecasts", "Market wrap: copper rallies on supply fears",
                              "Market wrap: a tech listing doubles on day one", "Market wrap: pension funds trim equities"]),
}
KIND = {"dead_like": "👍", "dead_skip": "⏩", "dead_down": "👎"}


@pytest.fixture(scope="module")
async def feedy(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Harness]:
    """Three default channels: one the person likes, one they only skip, one they dislike; after
    training, five posts of the first two (one page) and seven of the third (two pages)."""
    from ppb.store.migrate import upgrade_async

    database_url = f"sqlite:///{tmp_path_factory.mktemp('dead-ends') / 'ppb.db'}"
    await upgrade_async(load_settings(DATABASE_URL=database_url).async_database_url)
    settings = load_settings(
        DATABASE_URL=database_url, PPB_API_KEY=API_KEY, PPB_HTTP_PORT=free_port(), PPB_DEMO_DATA=False,
        DEFAULT_CHANNELS=",".join(f"@{name}" for name in TOPICS), POSTS_PER_CHANNEL=3,
    )
    async with running_bot(settings, API_KEY) as running:
        for index, (name, (title, texts)) in enumerate(TOPICS.items()):
            channel_id = -1009000000000 - index
            await running.api("POST", "/channels/", {"telegram_id": channel_id, "username": name, "title": title})
            await running.api("POST", "/posts/bulk", {"channel_telegram_id": channel_id, "posts": [
                {"telegram_message_id": n, "text": text, "media_type": "text",
                 "posted_at": f"2026-03-{n:02d}T09:00:00Z"} for n, text in enumerate(texts, start=1)]})
        yield running


async def test_rated_down_means_disliked_and_is_said_once(feedy: Harness, new_id) -> None:
    person = feedy.person(new_id())
    await person.say("/start")
    await person.tap("Start training")
    for number in range(1, 10):
        card = await person.wait_text(f"Post {number} of 9 · ")
        name = next(n for n, (title, _) in TOPICS.items() if f"· {title}" in card["text"])
        label = KIND[name]
        await person.press(card["message_id"], next(
            b["callback_data"] for row in card["reply_markup"]["inline_keyboard"] for b in row if b["text"] == label))
    await person.wait_text("Training complete")
    await person.say("/feed")
    closings: list[tuple[int, str]] = []  # each page's closing message (id, text) as it came
    for _ in range(6):
        closing = await wait_for(lambda: _new_closing(person, closings), 30, "the page's closing message")
        closings.append(closing)
        if "seen everything" in closing[1]:
            break
        await person.tap("More posts")
    texts = [m["text"] or "" for m in await person.bot_messages()]
    notes = [i for i, text in enumerate(texts) if text.startswith("That's all for now from the channels you like")]
    weather = [i for i, text in enumerate(texts) if "Forecast" in text]
    markets = [i for i, text in enumerate(texts) if "Market wrap" in text]
    assert len(notes) == 1, f"the note once in the chat: {texts}"
    assert len(weather) == 3 and max(weather) < notes[0], "skipped is no verdict: not behind the note"
    assert len(markets) == 7 and notes[0] < min(markets), "the disliked channel's posts after the note"
    said = [text for _, text in closings]
    assert len([text for text in said if "rated down" in text]) == 1, said
    assert any(text.startswith("That's 2 posts for you") for text in said), said


async def _new_closing(person, known: list[tuple[int, str]]) -> tuple[int, str] | None:
    """The newest page-closing message (its "More posts" button, or the end) not counted yet."""
    for message in reversed(await person.bot_messages()):
        text = message["text"] or ""
        if "📰 More posts" in buttons(message) or "seen everything" in text:
            return (message["message_id"], text) if (message["message_id"], text) not in known[-1:] else None
    return None


async def test_a_smaller_training_total_is_said_why(feedy: Harness, new_id) -> None:
    """Four 👎 in a row settle a channel: its other posts leave the set, and every card from
    then on says so, so "Post N of M" shrinking is no mystery."""
    person = feedy.person(new_id())
    await person.say("/start")
    await person.find_button("🚀")
    await feedy.api("POST", f"/users/{person.user_id}/training", {"posts_per_channel": 10})
    await person.say("/start")
    card = await person.wait_text("Post 1 of 21 · ")
    markets = garden = 0
    while markets < 4:  # Markets 👎 each time; Garden 👍 and 👎 in turn, Weather ⏩: neither settles
        if "· Markets" in card["text"]:
            label, markets = "👎", markets + 1
        elif "· Garden" in card["text"]:
            label, garden = ("👍" if garden % 2 == 0 else "👎"), garden + 1
        else:
            label = "⏩"
        number = int(card["text"].split("Post ", 1)[1].split(" ", 1)[0])
        await person.press(card["message_id"], next(
            b["callback_data"] for row in card["reply_markup"]["inline_keyboard"] for b in row if b["text"] == label))
        card = await person.wait_text(f"Post {number + 1} of ")
    assert f"Post {number + 1} of 15 · " in card["text"], card["text"]
    assert "⏭ 6 posts of Markets left out: your verdict there is clear." in card["text"]
    state = await feedy.api("GET", f"/users/{person.user_id}/training")
    assert (state["total"], state["skipped"], state["settled"]) == (15, 6, ["Markets"])


async def test_a_retrain_with_nothing_new_to_rate_keeps_the_totals_and_says_why(harness: Harness, new_id) -> None:
    """A retrain when every post of the person's channels is rated found an empty set and
    wiped the last one: the Mini App's training read "0 / 0", and the chat said nothing of why."""
    person = harness.person(new_id())
    await person.say("/start")
    await person.find_button("🚀")
    await harness.api("POST", f"/users/{person.user_id}/training", {"posts_per_channel": 50})
    posts = (await harness.api("GET", f"/users/{person.user_id}/training?limit=100"))["posts"]
    for index, post in enumerate(posts):  # the channels take turns: 👍 👎 in turn for each, none settles
        await harness.api("POST", "/posts/interactions", {"user_telegram_id": person.user_id, "post_id": post["id"],
                                                         "interaction_type": "like" if index // 2 % 2 else "dislike"})
    assert (await harness.api("GET", f"/users/{person.user_id}"))["status"] == "trained"

    await person.say("/start")
    await person.tap("🔁 Retrain")
    await person.tap("✅ Yes, retrain")
    done = await person.wait_text("There are no new posts to rate in your channels right now, so I learned again")
    assert f"Training complete! I learned from {len(posts)} ratings." in done["text"]
    state = await harness.api("GET", f"/users/{person.user_id}/training")
    assert (state["done"], state["total"]) == (len(posts), len(posts)), "the last set's totals stay"
    launch = (await harness.client.get(f"/sandbox/api/chats/{person.user_id}/webapp")).json()
    app = (await harness.client.get("/api/v1/miniapp/posts?mode=training",
                                    headers={"Authorization": f"tma {launch['init_data']}"})).json()
    assert (app["done"], app["total"], app["finished"]) == (len(posts), len(posts), True), app
