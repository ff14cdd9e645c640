"""Interaction kinds and what each one tells the model."""

from __future__ import annotations

from enum import StrEnum


class InteractionType(StrEnum):
    LIKE = "like"
    DISLIKE = "dislike"
    SKIP = "skip"


class MediaType(StrEnum):
    TEXT = "text"
    PHOTO = "photo"
    VIDEO = "video"
    DOCUMENT = "document"
    AUDIO = "audio"
    VOICE = "voice"
    POLL = "poll"


# Target value of each rating for the ranking model: a skip is a mild "not for me".
RATING_TARGET: dict[InteractionType, float] = {
    InteractionType.LIKE: 1.0,
    InteractionType.DISLIKE: 0.0,
    InteractionType.SKIP: 0.25,
}
