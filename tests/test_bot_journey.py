"""The rules of issue 14 in the chat, as a person meets them through the sandbox: channels
at any point, never stuck, retraining that keeps the feed, an honest feed, words for people."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from ppb.config import load_settings
from tests.bot_helpers import Harness, Person, buttons, running_bot, wait_for
from tests.ports import free_port

API_KEY = "bot-journey-key"
FEED_RATING = {"👍", "👎", "👍 ✓", "👎 ✓"}
LONG = " ".join(f"Sentence {i} of a very long post about gardens, soil and patience." for i in range(90))


@pytest.fixture(scope="module")
async def harness(sqlite_url: str) -> AsyncIterator[Harness]:
    settings = load_settings(
        DATABASE_URL=sqlite_url, PPB_API_KEY=API_KEY, PPB_HTTP_PORT=free_port(), PPB_DEMO_DATA=True,
        DEFAULT_CHANNELS="@ppb_demo_tech,@ppb_demo_kino", POSTS_PER_CHANNEL=3, PPB_MAX_BONUS_CHANNELS=2,
    )
    async with running_bot(settings, API_KEY) as running:
        yield running


def data(message: dict, label: str) -> str:
    for row in message["reply_markup"]["inline_keyboard"]:
        for button in row:
            if button["text"] == label:
                return button["callback_data"]
    raise AssertionError(f"no {label!r} button on {message['text']!r}")


async def rate_cards(person: Person, total: int, first: int, last: int, label: str = "👍") -> None:
    for number in range(first, last + 1):
        card = await person.wait_text(f"Post {number} of {total} · ")
        await person.press(card["message_id"], data(card, label))


async def begin(person: Person, total: int = 6) -> dict:
    await person.say("/start")
    await person.tap("Start training")
    return await person.wait_text(f"Post 1 of {total} · ")


async def user(harness: Harness, person: Person) -> dict:
    return await harness.api("GET", f"/users/{person.user_id}")


async def test_channels_work_during_training_and_a_followed_one_takes_no_slot(harness: Harness, new_id) -> None:
    person = harness.person(new_id())
    await begin(person)
    await person.say("@ppb_demo_travel")  # during training, as /help promises
    added = await person.wait_text("✅ @ppb_demo_travel added (bonus channel 1 of 2). Its posts join your training now.")
    assert added
    await person.wait_text("Post 1 of 9 · ")
    await person.say("https://t.me/ppb_demo_science")
    await person.wait_text("✅ @ppb_demo_science added (bonus channel 2 of 2)")
    await person.wait_text("Post 1 of 12 · ")
    await person.say("@ppb_demo_tech")  # a default channel: followed already
    await person.wait_text("You already follow @ppb_demo_tech, so no bonus slot was used.")
    await person.say("t.me/ppb_demo_travel")
    await person.wait_text("You already follow @ppb_demo_travel")
    assert (await user(harness, person))["bonus_channels_count"] == 2

    await person.tap("🏠 Menu")
    await person.tap("My channels")
    listing = await person.wait_text("Your channels (2 of 2 bonus)")
    assert "Slow Travel Notes (@ppb_demo_travel) ⭐" in listing["text"]
    assert "❌ Remove @ppb_demo_travel" in buttons(listing) and "❌ Remove @ppb_demo_tech" in buttons(listing)
    await person.tap("❌ Remove @ppb_demo_travel")
    await person.wait_text("Your channels (1 of 2 bonus)")
    assert (await user(harness, person))["bonus_channels_count"] == 1, "removing frees the slot"
    state = await harness.api("GET", f"/users/{person.user_id}/training")
    assert state["total"] == 9, "the removed channel's posts left the training"


async def test_never_stuck_start_reset_and_a_menu_during_training(harness: Harness, new_id) -> None:
    person = harness.person(new_id())
    first = await begin(person)
    assert "🏠 Menu" in buttons(first) and "✅ Finish training" not in buttons(first)
    await rate_cards(person, 6, 1, 2)
    await person.say("/start")
    card = await person.wait_text("Post 3 of 6 · ")
    assert (await person.bot_messages())[-1]["message_id"] == card["message_id"], "/start answers with the card"
    await person.tap("🏠 Menu")
    menu = await person.wait_text("📚 Training: 2 of 6 posts rated.")
    assert {"▶️ Continue training", "🔄 Start training over", "➕ Add a channel", "🌐 Language"} <= set(buttons(menu))
    await person.say("/reset")
    await person.wait_text("🔄 Reset. Your ratings are kept")
    await person.wait_text("📚 Training: 2 of 6 posts rated.")
    await person.say("/status")
    await person.wait_text("Status: 📚 in training\nRatings: 2\nBonus channels: 0 of 2\nTraining: 2 of 6 posts rated")
    await person.tap("Continue training")
    await rate_cards(person, 6, 3, 5, "👎")
    card = await person.wait_text("Post 6 of 6 · ")
    assert "✅ Finish training" in buttons(card)
    await person.tap("✅ Finish training")
    await person.wait_text("Training complete! I learned from 5 ratings")


async def test_retrain_is_confirmed_and_the_feed_stays_readable(harness: Harness, new_id) -> None:
    person = harness.person(new_id())
    await begin(person)
    await rate_cards(person, 6, 1, 6)
    await person.wait_text("Training complete")
    await person.tap("View my feed")
    await person.wait_text("posts for you")
    await person.tap("🏠 Menu")
    await person.tap("🔁 Retrain")
    confirm = await person.wait_text("🔁 Retrain?")
    assert set(buttons(confirm)) == {"✅ Yes, retrain", "✖️ Cancel"}
    assert (await user(harness, person))["status"] == "active", "nothing happens before the confirmation"
    await person.tap("✅ Yes, retrain")
    await person.wait_text("Post 1 of ")
    assert (await user(harness, person))["status"] == "training"
    posts_before = [m for m in await person.bot_messages() if set(buttons(m)) & FEED_RATING]
    await person.say("/feed")

    async def more_posts() -> list[dict]:
        now = [m for m in await person.bot_messages() if set(buttons(m)) & FEED_RATING]
        return now if len(now) > len(posts_before) else []

    now = await wait_for(more_posts, 15, "feed posts during the retraining")
    texts = [m["text"] for m in now]
    assert len(texts) == len(set(texts)), "no post is sent into the chat twice"


@pytest.fixture(scope="module")
async def small(sqlite_url: str) -> AsyncIterator[Harness]:
    """Two small channels of its own: one the person likes, one they turn down."""
    settings = load_settings(
        DATABASE_URL=sqlite_url, PPB_API_KEY=API_KEY, PPB_HTTP_PORT=free_port(), PPB_DEMO_DATA=False,
        DEFAULT_CHANNELS="@journey_garden,@journey_markets", POSTS_PER_CHANNEL=3,
    )
    async with running_bot(settings, API_KEY) as running:
        garden = [("voice", ""), ("photo", "Our tomatoes this morning"), ("text", LONG),
                  ("text", "Prune roses after the last frost"), ("text", "Plant garlic cloves in October")]
        markets = ["Bond yields climb for a third week", "The central bank keeps its rate",
                   "Oil futures slide on weak demand", "A chipmaker's shares jump on earnings",
                   "Currency traders brace for the jobs data"]
        for telegram_id, name, title, posts in (
            (-1009900000001, "journey_garden", "Garden Notes", garden),
            (-1009900000002, "journey_markets", "Market Wire", [("text", text) for text in markets]),
        ):
            await running.api("POST", "/channels/", {"telegram_id": telegram_id, "username": name, "title": title})
            await running.api("POST", "/posts/bulk", {"channel_telegram_id": telegram_id, "posts": [
                {"telegram_message_id": 10 + index, "text": text, "media_type": media,
                 "posted_at": f"2026-03-{20 - index:02d}T09:00:00Z"}
                for index, (media, text) in enumerate(posts)
            ]})
        yield running


async def test_posts_show_their_media_and_long_ones_are_cut_with_a_link(small: Harness, new_id) -> None:
    person = small.person(new_id())
    card = await begin(person)
    assert "Garden Notes" in card["text"] and "🎤 Voice message" in card["text"]
    assert "(a post without text)" not in card["text"]
    await person.press(card["message_id"], data(card, "👍"))
    card = await person.wait_text("Post 2 of 6 · Market Wire")
    await person.press(card["message_id"], data(card, "👎"))
    card = await person.wait_text("Post 3 of 6 · Garden Notes")
    assert "📷 Photo" in card["text"] and "Our tomatoes this morning" in card["text"]
    await person.press(card["message_id"], data(card, "👍"))
    await person.press((await person.wait_text("Post 4 of 6 · "))["message_id"],
                       data(await person.wait_text("Post 4 of 6 · "), "👎"))
    long = await person.wait_text("Post 5 of 6 · Garden Notes")
    assert "…\n\nRead the whole post: https://t.me/journey_garden/12" in long["text"]
    assert len(long["text"]) < 3200


async def test_the_feed_says_when_the_good_posts_ran_out_and_never_repeats(small: Harness, new_id) -> None:
    person = small.person(new_id(), "Ира", language_code="ru")
    await person.say("/start")
    await person.tap("Начать обучение")
    for number in range(1, 7):
        card = await person.wait_text(f"Пост {number} из 6 · ")
        await person.press(card["message_id"], data(card, "👍" if "Garden Notes" in card["text"] else "👎"))
    await person.wait_text("Обучение завершено")
    await person.say("/status")
    await person.wait_text("Статус: ✅ обучение пройдено, лента готова")
    await person.say("/feed")
    await person.wait_text("Вот 4 поста для тебя")
    chat = await person.bot_messages()
    texts = [m["text"] for m in chat]
    note = next(i for i, text in enumerate(texts) if text.startswith("Пока это всё из каналов"))
    garden = [i for i, text in enumerate(texts) if "Garden Notes" in text]
    markets = [i for i, text in enumerate(texts) if "Market Wire" in text]
    assert len(garden) == 2 and len(markets) == 2 and max(garden) < note < min(markets), \
        "the good posts, then the note, then the rest"
    await person.tap("Ещё посты")
    await person.wait_text("🎉 Пока это всё.")
    posts = [m["text"] for m in await person.bot_messages() if set(buttons(m)) & FEED_RATING]
    assert len(posts) == 4 == len(set(posts)), "nothing sent twice"
