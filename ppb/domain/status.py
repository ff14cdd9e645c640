"""The user state machine of DESIGN section 5, as pure rules."""

from __future__ import annotations

from enum import StrEnum

from ppb.domain.errors import ForbiddenTransition


class UserStatus(StrEnum):
    NEW = "new"
    ONBOARDING = "onboarding"
    TRAINING = "training"
    TRAINED = "trained"
    ACTIVE = "active"
    CHURNED = "churned"


class UserEvent(StrEnum):
    START = "start"
    START_TRAINING = "start_training"
    COMPLETE_TRAINING = "complete_training"
    VIEW_FEED = "view_feed"
    CHURN = "churn"
    ACTIVITY = "activity"

    @property
    def log_action(self) -> str:
        """How a transition by this event is written in the user's log (`user_logs.action`)."""
        return f"status:{self.value}"


S, E = UserStatus, UserEvent

TRANSITIONS: dict[tuple[UserStatus, UserEvent], UserStatus] = {
    (S.NEW, E.START): S.ONBOARDING,
    (S.ONBOARDING, E.START_TRAINING): S.TRAINING,
    (S.TRAINING, E.COMPLETE_TRAINING): S.TRAINED,
    (S.TRAINED, E.VIEW_FEED): S.ACTIVE,
    (S.TRAINED, E.START_TRAINING): S.TRAINING,
    (S.ACTIVE, E.START_TRAINING): S.TRAINING,
    (S.ACTIVE, E.CHURN): S.CHURNED,
    (S.CHURNED, E.ACTIVITY): S.ACTIVE,
    (S.CHURNED, E.VIEW_FEED): S.ACTIVE,
}

# Events that only mark a user as present: never forbidden, they move a churned user back.
PRESENCE_EVENTS = frozenset({E.ACTIVITY})

# Where an event leads; an event whose target is the current status changes nothing
# (so a retried or repeated event is harmless instead of a 409).
TARGETS: dict[UserEvent, UserStatus] = {event: target for (_, event), target in TRANSITIONS.items()}


def next_status(current: UserStatus, event: UserEvent) -> UserStatus:
    """The status after `event`; raises ForbiddenTransition when the machine forbids it."""
    target = TRANSITIONS.get((current, event))
    if target is not None:
        return target
    if event in PRESENCE_EVENTS or TARGETS.get(event) == current:
        return current
    raise ForbiddenTransition(current.value, event.value, allowed_events(current))


def allowed_events(current: UserStatus) -> list[str]:
    """The events that change `current`, for error messages and clients."""
    return [event.value for (status, event) in TRANSITIONS if status == current]


def is_trained_after(status: UserStatus, was_trained: bool) -> bool:
    """A user is trained once training has completed, and stays so through retraining."""
    return was_trained or status in {S.TRAINED, S.ACTIVE}
