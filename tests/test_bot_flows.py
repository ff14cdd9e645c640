"""Each flow driven as a person would, through the sandbox: send text, press buttons, read
the chat. The bot is the real aiogram bot over HTTP; the API and store are real."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from ppb.config import load_settings
from tests.bot_helpers import Harness, Person, buttons, running_bot, wait_for
from tests.ports import free_port

API_KEY = "test-api-key"
FEED_RATING = {"👍", "👎", "👍 ✓", "👎 ✓"}


@pytest.fixture(scope="module")
async def harness(sqlite_url: str) -> AsyncIterator[Harness]:
    settings = load_settings(
        DATABASE_URL=sqlite_url, PPB_API_KEY=API_KEY, PPB_HTTP_PORT=free_port(), PPB_DEMO_DATA=True,
        DEFAULT_CHANNELS="@ppb_demo_tech,@ppb_demo_kino", POSTS_PER_CHANNEL=3, PPB_MAX_BONUS_CHANNELS=1,
    )
    async with running_bot(settings, API_KEY) as running:
        yield running


async def menus_in(person: Person) -> list[dict]:
    """Bot messages that are not feed posts: the chat should hold exactly one."""
    return [m for m in await person.bot_messages() if not set(buttons(m)) & FEED_RATING]


async def train(harness: Harness, person: Person) -> None:
    """/start, then rate every training post: 👍 👎 ⏩ in turn."""
    await person.say("/start")
    await person.tap("Start training")
    kinds = ["👍", "👎", "⏩"]
    for number in range(1, 7):
        card = await person.wait_text(f"Post {number} of 6")
        await person.press(card["message_id"], _data(card, kinds[number % 3]))
    await person.wait_text("Training complete")


def _data(message: dict, label: str) -> str:
    for row in message["reply_markup"]["inline_keyboard"]:
        for button in row:
            if button["text"] == label:
                return button["callback_data"]
    raise AssertionError(f"no {label!r} button on {message['text']!r}")


async def test_start_registers_and_shows_the_welcome_menu(harness: Harness, new_id) -> None:
    person = harness.person(new_id(), "Ann")
    await person.say("/start")
    menu = await person.wait_text("Hi, Ann")
    assert {"🚀 Start training", "ℹ️ How it works", "🇬🇧 English", "🇷🇺 Русский"} <= set(buttons(menu))
    user = await harness.api("GET", f"/users/{person.user_id}")
    assert user["status"] == "onboarding" and user["first_name"] == "Ann"
    await person.tap("How it works")
    await person.wait_text("How it works\n")
    await person.tap("Menu")
    await person.wait_text("Hi, Ann")
    assert [m["from_bot"] for m in await person.messages()] == [True], "one menu, the /start deleted"


async def test_training_rates_every_post_and_finishes_with_the_model(harness: Harness, new_id) -> None:
    person = harness.person(new_id())
    await person.say("/start")
    await person.tap("Start training")
    first = await person.wait_text("Post 1 of 6")
    assert "Finish training" not in buttons(first) and "📱 Train in the Mini App" in buttons(first)
    assert (await harness.api("GET", f"/users/{person.user_id}"))["status"] == "training"
    kinds = ["👍", "👎", "⏩", "👍", "👎"]
    for number, label in enumerate(kinds, start=1):
        card = await person.wait_text(f"Post {number} of 6")
        await person.press(card["message_id"], _data(card, label))
    card = await person.wait_text("Post 6 of 6")
    assert "✅ Finish training" in buttons(card), "the minimum is reached"
    await person.tap("Finish training")
    done = await person.wait_text("Training complete! I learned from 5 ratings")
    assert "📰 View my feed" in buttons(done)
    stored = await harness.api("GET", f"/posts/interactions/{person.user_id}")
    assert sorted(i["interaction_type"] for i in stored["interactions"]) == ["dislike", "dislike", "like", "like", "skip"]
    user = await harness.api("GET", f"/users/{person.user_id}")
    assert user["status"] == "trained" and user["is_trained"]
    assert len(await menus_in(person)) == 1 and len(await person.messages()) == 1


async def test_feed_sends_posts_that_stay_rates_them_and_moves_to_active(harness: Harness, new_id) -> None:
    person = harness.person(new_id())
    await train(harness, person)
    await person.tap("View my feed")
    more = await person.wait_text("posts for you")
    assert (await harness.api("GET", f"/users/{person.user_id}"))["status"] == "active"
    chat = await person.bot_messages()
    posts = [m for m in chat if set(buttons(m)) & FEED_RATING]
    assert posts and chat[-1]["message_id"] == more["message_id"], "the menu sits below the posts"
    assert len(await menus_in(person)) == 1
    await person.press(posts[0]["message_id"], _data(posts[0], "👍"))

    async def rated() -> bool:
        shown = [m for m in await person.bot_messages() if m["message_id"] == posts[0]["message_id"]][0]
        return "👍 ✓" in buttons(shown)

    await wait_for(rated, 10, "the feed post to show its rating")
    stored = await harness.api("GET", f"/posts/interactions/{person.user_id}")
    assert any(i["post_id"] and i["interaction_type"] == "like" for i in stored["interactions"])
    first_page = {m["text"] for m in posts}
    await person.tap("More posts")

    async def second_page() -> list[dict]:
        now = [m for m in await person.bot_messages() if set(buttons(m)) & FEED_RATING]
        return now if len(now) > len(posts) else []

    page = await wait_for(second_page, 10, "a second page of posts")
    assert not {m["text"] for m in page[len(posts):]} & first_page, "no post is shown twice"

    async def one_menu() -> bool:  # the new menu is sent below the page, then the old one deleted
        return len(await menus_in(person)) == 1

    await wait_for(one_menu, 10, "the page's menu to replace the one above it")


async def test_why_answers_a_feed_post_with_the_model_s_reasons_and_leaves_the_chat_as_it_was(
    harness: Harness, new_id
) -> None:
    person = harness.person(new_id())
    await train(harness, person)
    await person.tap("View my feed")
    await person.wait_text("posts for you")
    posts = [m for m in await person.bot_messages() if set(buttons(m)) & FEED_RATING]
    assert all("❓" in buttons(post) for post in posts)
    before = await person.messages()
    await person.press(posts[0]["message_id"], _data(posts[0], "❓"))

    async def answered() -> dict | None:
        return next((a for a in (await person.chat())["answers"] if a["show_alert"]), None)

    answer = await wait_for(answered, 10, "the why answer")
    reason_lines = answer["text"].splitlines()
    assert reason_lines[0] == "Why this post:" and len(reason_lines) > 1, answer
    assert len(answer["text"]) <= 200
    explained = await harness.api("POST", "/posts/explain", {"user_telegram_id": person.user_id,
                                                             "post_id": int(_data(posts[0], "❓").split(":")[1])})
    assert explained["reasons"], explained
    assert await person.messages() == before, "an alert: nothing added to the chat"
    store = harness.app.state.services.store
    given = await store.explanations_of(await store.user_id(person.user_id))
    post_id, lead = explained["post_id"], explained["reasons"][0]["kind"]
    assert [(row["post_id"], row["lead"], row["surface"]) for row in given] == [(post_id, lead, "chat"), (post_id, lead, "api")]


async def test_bonus_channel_joins_trains_and_respects_the_limit(harness: Harness, new_id) -> None:
    person = harness.person(new_id())
    await train(harness, person)
    await person.tap("Menu")
    await person.tap("Add a channel")
    await person.wait_text("@username or its t.me link")
    await person.say("@no_such_channel_here")
    await person.wait_text("This is the sandbox: it can't reach Telegram, so it can't add @no_such_channel_here")
    await person.say("https://t.me/ppb_demo_travel")
    await person.wait_text("Post 1 of 3 · Slow Travel Notes")
    user = await harness.api("GET", f"/users/{person.user_id}")
    assert user["bonus_channels_count"] == 1 and user["status"] == "training"
    assert not [m for m in await person.bot_messages() if "t.me link" in (m["text"] or "")], "the prompt is gone"
    for number in range(1, 4):
        card = await person.wait_text(f"Post {number} of 3")
        await person.press(card["message_id"], _data(card, "👍"))
    await person.wait_text("Training complete")
    await person.say("@ppb_demo_science")
    await person.wait_text("You already have 1 bonus channel, the most")
    await person.tap("Cancel")
    await person.tap("My channels")
    listing = await person.wait_text("Your channels")
    assert "Slow Travel Notes (@ppb_demo_travel) ⭐" in listing["text"]


async def test_language_switch_and_commands(harness: Harness, new_id) -> None:
    person = harness.person(new_id(), "Иван", language_code="en")
    await person.say("/start")
    await person.wait_text("Hi, Иван")
    await person.tap("🇷🇺 Русский")
    menu = await person.wait_text("Привет, Иван")
    assert "🚀 Начать обучение" in buttons(menu)
    assert (await harness.api("GET", f"/users/{person.user_id}"))["language"] == "ru"
    await person.say("/help")
    await person.wait_text("Помощь")
    await person.say("/status")
    status = await person.wait_text("Статус: 👋 знакомство")
    assert not [m for m in await person.bot_messages() if "Помощь" in (m["text"] or "")], "one notice at a time"
    await person.say("/reset")

    async def tidy() -> bool:
        chat = await person.messages()
        return len(chat) == 1 and "Привет" in chat[0]["text"] and chat[0]["message_id"] != status["message_id"]

    await wait_for(tidy, 10, "a fresh menu alone after /reset")


async def test_a_russian_telegram_user_is_greeted_in_russian(harness: Harness, new_id) -> None:
    person = harness.person(new_id(), "Оля", language_code="ru")
    await person.say("/start")
    await person.wait_text("Привет, Оля")
    await person.say("what is this?")
    await person.wait_text("Я не понял")
