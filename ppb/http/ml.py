"""Model training: fit the user's model now and finish their training."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ppb.domain.status import UserEvent, UserStatus
from ppb.http.body import parse_body, reply
from ppb.http.schemas import TrainOut, TrainRequest
from ppb.http.services import Services


async def train(request: Request) -> Response:
    body = await parse_body(request, TrainRequest)
    services: Services = request.app.state.services
    user = await services.store.get_user(body.user_telegram_id)
    count, seconds = await services.scoring.train(user["id"])
    if count == 0:
        return reply(
            TrainOut(
                success=False,
                message="no ratings yet: rate a few posts first",
                training_time=round(seconds, 6),
                ratings_count=0,
            )
        )
    if user["status"] == UserStatus.TRAINING:
        await services.users.apply(
            body.user_telegram_id, UserEvent.COMPLETE_TRAINING, {"ratings": count}
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
