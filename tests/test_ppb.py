"""`Ppb` in process (`LocalPpb`) and over HTTP (`HttpPpb`) answer alike: the same replies
and the same domain errors, so the bot reads the same wherever it runs."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator
from typing import Any

import pytest

from ppb.bot.api import HttpPpb
from ppb.compose.core import build_services
from ppb.compose.web import http_app
from ppb.config import Settings
from ppb.core.ppb import LocalPpb, Ppb
from ppb.domain.errors import Conflict, Invalid, NotFound
from tests.bot_helpers import serve
from tests.conftest import API_KEY

USER_FIELDS = {"id", "telegram_id", "username", "status", "is_trained", "bonus_channels_count"}
STATE_FIELDS = {"status", "is_trained", "total", "done", "remaining", "can_finish", "ratings_count", "posts"}


@pytest.fixture(params=["local", "http"])
async def ppb(request: pytest.FixtureRequest, settings: Settings) -> AsyncIterator[Ppb]:
    services = build_services(settings)  # its own store: the server's lifespan opens and closes it
    app = http_app(settings, services)
    async with serve(app) as base:
        client: Ppb = LocalPpb(services.core) if request.param == "local" else HttpPpb(base, API_KEY)
        yield client
        await client.close()


async def test_both_answer_the_same_replies(ppb: Ppb, new_id: Any) -> None:
    telegram_id = new_id()
    user = await ppb.register_user(telegram_id, "ann", "Ann", None)
    assert USER_FIELDS <= user.keys() and user["status"] == "new"
    assert (await ppb.event(telegram_id, "start"))["status"] == "onboarding"
    state = await ppb.training_state(telegram_id)
    assert STATE_FIELDS <= state.keys() and state["status"] == "onboarding"
    assert (await ppb.set_language(telegram_id, "ru"))["language"] == "ru"
    assert await ppb.channels(telegram_id) == []
    assert await ppb.interactions(telegram_id) == []
    started = await ppb.start_training(telegram_id, ["@nosuchchannel_zz"])
    assert started["status"] == "training" and started["posts"] == []
    assert (await ppb.feed_page(telegram_id, 3)).keys() >= {"posts", "others"}
    assert (await ppb.train(telegram_id))["success"] is False


async def test_both_raise_the_same_domain_errors(ppb: Ppb, new_id: Any) -> None:
    telegram_id = new_id()
    with pytest.raises(NotFound):
        await ppb.get_user(telegram_id)
    await ppb.register_user(telegram_id, None, "Ann", None)
    with pytest.raises(Conflict) as forbidden:
        await ppb.event(telegram_id, "complete_training")
    assert forbidden.value.detail.startswith("event 'complete_training' is not allowed")
    with pytest.raises(Invalid) as invalid:
        await ppb.add_channel(telegram_id, "not a channel!", bonus=True)
    assert "channel" in invalid.value.detail
    with pytest.raises(NotFound):
        await ppb.add_channel(telegram_id, "@nosuchchannel_zz", bonus=True)
    with pytest.raises(NotFound):
        await ppb.rate(telegram_id, 2**40, "like")


async def test_both_keep_the_why_asked_in_the_chat(ppb: Ppb, api, store, new_id: Any) -> None:
    """The bot's ❓ in process and over HTTP is kept as asked in the chat, with its lead reason."""
    from tests.test_miniapp_api import seed_channel

    telegram_id = new_id()
    await ppb.register_user(telegram_id, None, "Ann", None)
    channel, ids = await seed_channel(api, new_id, texts=["first news of the day", "second story, a long read"])
    await ppb.add_channel(telegram_id, channel["username"], bonus=False)
    found = await ppb.explain(telegram_id, ids[0])
    lead = found["reasons"][0]["kind"] if found["reasons"] else "none"
    given = await store.explanations_of(await store.user_id(telegram_id))
    assert [(row["post_id"], row["lead"], row["surface"]) for row in given] == [(ids[0], lead, "chat")]


def public_methods(cls: type) -> dict[str, inspect.Signature]:
    return {name: inspect.signature(member) for name, member in inspect.getmembers(cls, inspect.isfunction)
            if not name.startswith("_")}


@pytest.mark.parametrize("implementation", [LocalPpb, HttpPpb])
def test_each_implementation_is_the_one_surface_exactly(implementation: type) -> None:
    """One surface, `Ppb`: each implementation answers every call of it with its signature,
    and offers nothing the bot could come to need that the other lacks."""
    surface = public_methods(Ppb)
    offered = {name: signature for name, signature in public_methods(implementation).items()
               if name != "from_settings"}
    assert offered.keys() == surface.keys()
    for name, signature in surface.items():
        assert [(p.name, p.kind, p.default) for p in offered[name].parameters.values()] == [
            (p.name, p.kind, p.default) for p in signature.parameters.values()], name
