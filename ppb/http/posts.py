"""Posts: bulk upload, training sets, ratings, and the ranked feed."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ppb.core import replies
from ppb.domain.channels import ChannelName
from ppb.domain.explanations import Surface
from ppb.domain.telegram_html import render_or_none
from ppb.http.body import parse_body, reply
from ppb.http.schemas import (
    BestPosts,
    BestRequest,
    BulkPosts,
    BulkPostsOut,
    ExplainOut,
    ExplainRequest,
    RateRequest,
    RatingOut,
    TrainingPosts,
    TrainingRequest,
)
from ppb.http.services import core_of, services_of
from ppb.store.queries import NewPost


async def bulk(request: Request) -> Response:
    body = await parse_body(request, BulkPosts)
    store = services_of(request).store
    channel = await store.get_channel(ChannelName(telegram_id=body.channel_telegram_id))
    new_posts = [
        NewPost(post.telegram_message_id, post.text, post.media_type.value, post.posted_at,
                render_or_none(post.formatted()) if post.entities else None)
        for post in body.posts
    ]
    created, ids = await store.add_posts(channel["id"], new_posts)
    return reply(BulkPostsOut(created_count=created, post_ids=ids))


async def training(request: Request) -> Response:
    """The known channels' posts; channels PPB does not have are listed in `unknown_channels`
    (200 all the same, as the original system answered its bot's default list)."""
    body = await parse_body(request, TrainingRequest)
    names = ChannelName.parse_many(body.channel_usernames, "channel_usernames")
    found = await core_of(request).training_posts(body.user_telegram_id, names, body.posts_per_channel)
    return reply(TrainingPosts.model_validate(
        {"posts": found.posts, "unknown_channels": [repr(name) for name in found.unknown]}))


async def rate(request: Request) -> Response:
    body = await parse_body(request, RateRequest)
    row = await core_of(request).rate(body.user_telegram_id, body.post_id, body.interaction_type,
                                      if_rated=body.if_rated)
    return reply(RatingOut.model_validate(row))


async def best(request: Request) -> Response:
    body = await parse_body(request, BestRequest)
    ranked = await core_of(request).best(body.user_telegram_id, body.limit)
    return reply(BestPosts.model_validate({"posts": replies.ranked(ranked)}))


async def explain(request: Request) -> Response:
    body = await parse_body(request, ExplainRequest)
    explanation = await core_of(request).explain(body.user_telegram_id, body.post_id, Surface(body.surface))
    return reply(ExplainOut.model_validate(replies.explanation(explanation)))


RATE_PATH = "/api/v1/posts/interactions"
rating_route = Route(RATE_PATH, rate, methods=["POST"])
"""The hottest route, outside the `/api/v1` Mount (`app.py`): the rating is matched right
after the health routes, not after the Mount's own match and the posts routes before it."""

routes = [
    Route("/posts/bulk", bulk, methods=["POST"]),
    Route("/posts/training", training, methods=["POST"]),
    Route("/posts/interactions", rate, methods=["POST"]),  # reached only by a method it lacks: 405 naming POST
    Route("/posts/best", best, methods=["POST"]),
    Route("/posts/explain", explain, methods=["POST"]),
]
