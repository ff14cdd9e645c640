"""No dead ends and no blame in the chat (issue 27, item 7), through the sandbox with the real
bot: /help names every command, a second "delete everything" is harmless, a blocked person is
told plainly."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from ppb.bot.app import COMMANDS
from ppb.config import load_settings
from tests.bot_helpers import Harness, buttons, free_port, running_bot, wait_for
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
