"""Posts: bulk upload, training sets, ratings, and the ranked feed."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ppb.core.rules import post_filter
from ppb.domain.channels import ChannelRef, parse_channel
from ppb.domain.errors import DomainError, NotFound
from ppb.http.body import parse_body, reply
from ppb.http.schemas import (
    BestPosts,
    BestRequest,
    BulkPosts,
    BulkPostsOut,
    InteractionOut,
    RateRequest,
    TrainingPosts,
    TrainingRequest,
)
from ppb.http.services import Services
from ppb.store.queries import NewPost


def _services(request: Request) -> Services:
    return request.app.state.services


async def bulk(request: Request) -> Response:
    body = await parse_body(request, BulkPosts)
    store = _services(request).store
    channel = await store.get_channel(ChannelRef(telegram_id=body.channel_telegram_id))
    new_posts = [
        NewPost(post.telegram_message_id, post.text, post.media_type.value, post.posted_at)
        for post in body.posts
    ]
    created, ids = await store.add_posts(channel["id"], new_posts)
    return reply(BulkPostsOut(created_count=created, post_ids=ids))


def _parse_channels(names: list[str]) -> list[ChannelRef]:
    refs = []
    for index, name in enumerate(names):
        try:
            refs.append(parse_channel(name))
        except DomainError as error:
            raise HTTPException(422, f"channel_usernames[{index}]: {error.detail}") from None
    return refs


async def training(request: Request) -> Response:
    body = await parse_body(request, TrainingRequest)
    store = _services(request).store
    refs = _parse_channels(body.channel_usernames)
    user_id = await store.user_id(body.user_telegram_id)
    found = await store.find_channels(refs)
    known = {row["username"] for row in found} | {row["telegram_id"] for row in found}
    missing = [ref for ref in refs if (ref.username or ref.telegram_id) not in known]
    if missing:
        names = ", ".join(repr(ref) for ref in missing)
        raise NotFound(f"channel_usernames: unknown channel(s) {names}; scrape or import them first")
    channel_ids = [row["id"] for row in found]
    await store.link_channels(user_id, channel_ids, for_training=True)
    rows = await store.latest_posts(channel_ids, body.posts_per_channel, unrated_by=user_id)
    rows = (await post_filter(store, user_id)).keep(rows)  # the person's muted words and ads
    return reply(TrainingPosts.model_validate({"posts": rows}))


async def rate(request: Request) -> Response:
    body = await parse_body(request, RateRequest)
    row = await _services(request).rate(body.user_telegram_id, body.post_id, body.interaction_type)
    return reply(InteractionOut.model_validate(row))


async def best(request: Request) -> Response:
    body = await parse_body(request, BestRequest)
    services = _services(request)
    user_id = await services.store.user_id(body.user_telegram_id)
    ranked = await services.feed.best(user_id, body.limit)
    posts = [{**row, "relevance_score": round(score, 6)} for row, score in ranked]
    return reply(BestPosts.model_validate({"posts": posts}))


routes = [
    Route("/posts/bulk", bulk, methods=["POST"]),
    Route("/posts/training", training, methods=["POST"]),
    Route("/posts/interactions", rate, methods=["POST"]),
    Route("/posts/best", best, methods=["POST"]),
]
