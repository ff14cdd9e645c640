"""`scraper-<session>` under Ray: found by name, restarted when killed, carrying on from the store."""

from __future__ import annotations

from functools import partial

import pytest
import ray

from ppb.actors.scraper import RayScraperClient, actor_name
from ppb.compose.scraper import scraper_session
from ppb.domain.errors import NotFound
from tests.telegram_stand import TelegramStand, scraper_clients, scraper_settings


async def test_the_session_actor_survives_a_kill(ray_session, database_url, new_id) -> None:
    stand = TelegramStand()  # the actor gets a copy of it, as it is now
    session = stand.session_string()
    settings = scraper_settings(session, DATABASE_URL=database_url)
    bare = new_id()
    channel = stand.add_channel(f"ray{bare}", "Ray news", bare_id=bare)
    for number in range(1, 7):
        stand.post(channel, f"message {number} from a channel read inside an actor")
    factory = scraper_clients(stand, session)
    client = RayScraperClient(settings, partial(scraper_session, client_factory=factory))
    try:
        first = await client.scrape(channel.username, 3)
        assert (first["posts_count"], first["created_count"]) == (3, 3)
        name = actor_name(settings)
        assert name.startswith("scraper-") and settings.telethon_session.get_secret_value() not in name
        handle = ray.get_actor(name, namespace=settings.ray_namespace)
        assert (await client.status())["name"] == name.removeprefix("scraper-")

        ray.kill(handle, no_restart=False)  # Ray restarts it; the store holds the cursor
        second = await client.scrape(channel.username, 5)
        # Read from the stored cursor (2 older posts), not afresh (5). A call the dying actor
        # already ran is retried by Ray and then finds nothing left to read: 0.
        assert second["posts_count"] in (0, 2) and second["stored_count"] == 5

        with pytest.raises(NotFound):
            await client.scrape(f"@gone{new_id()}", 3)
        again = RayScraperClient(settings, partial(scraper_session, client_factory=factory))  # another replica: same actor
        assert (await again.scrape(channel.username, 5))["created_count"] == 0
        # The second call may have run in the dying actor; these surely ran in the new one.
        assert (await client.status())["started"] is True
    finally:
        client.kill()
