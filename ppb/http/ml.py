"""Model training: fit the user's model now and finish their training."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ppb.http.body import parse_body, reply
from ppb.http.schemas import TrainOut, TrainRequest
from ppb.http.services import core_of


async def train(request: Request) -> Response:
    body = await parse_body(request, TrainRequest)
    count, seconds = await core_of(request).train(body.user_telegram_id)
    if count == 0:
        return reply(
            TrainOut(
                success=False,
                message="no ratings yet: rate a few posts first",
                training_time=round(seconds, 6),
                ratings_count=0,
            )
        )
    return reply(
        TrainOut(
            success=True,
            message="Model trained successfully",
            training_time=round(seconds, 6),
            ratings_count=count,
        )
    )


routes = [Route("/ml/train", train, methods=["POST"])]
