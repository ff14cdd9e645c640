"""Request and response bodies of the REST API; responses carry exactly the contract fields."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError, ValidationError

from ppb.domain import formatting
from ppb.domain.interactions import InteractionType, MediaType
from ppb.domain.status import UserEvent, UserStatus

INT64_MAX = 2**63 - 1
TelegramId = Annotated[int, Field(ge=-(2**63), le=INT64_MAX)]
RowId = Annotated[int, Field(ge=1, le=INT64_MAX)]


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain the NUL character (\\u0000)")
    return value


def _no_nul_deep(value: Any) -> Any:
    """NUL nowhere in a JSON value (keys and strings), which PostgreSQL cannot store."""
    if isinstance(value, str):
        _no_nul(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            _no_nul(str(key))
            _no_nul_deep(item)
    elif isinstance(value, list):
        for item in value:
            _no_nul_deep(item)
    elif isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value <= INT64_MAX:
        raise ValueError("numbers must fit in 64 bits")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
"""Any text that reaches the store: PostgreSQL refuses NUL in text."""
Username = Annotated[Text, Field(max_length=64)]
Name = Annotated[Text, Field(max_length=128)]


def _utc(value: datetime) -> datetime:
    from ppb.store.queries import as_utc

    return as_utc(value)


UtcDatetime = Annotated[datetime, AfterValidator(_utc)]


def _storable_time(value: datetime) -> datetime:
    """A time the store can keep: in UTC, within years 1 to 9999."""
    try:
        return _utc(value)
    except OverflowError:
        raise ValueError("out of range once in UTC (years 1 to 9999)") from None


StoredDatetime = Annotated[datetime, AfterValidator(_storable_time)]


class Body(BaseModel):
    """Request bodies: strict types (a string is not a number), unknown fields ignored.

    No NaN or Infinity: they are not JSON (`parse_body` answers 400 for them, as for any
    broken JSON)."""

    model_config = ConfigDict(strict=True, extra="ignore", allow_inf_nan=False)


class Out(BaseModel):
    """Response bodies: built from store rows, unknown row columns dropped."""

    model_config = ConfigDict(extra="ignore")


# users ---------------------------------------------------------------------------------


class CreateUser(Body):
    telegram_id: TelegramId
    username: Username | None = None
    first_name: Name | None = None
    last_name: Name | None = None
    language: Annotated[str, Field(pattern=r"^[a-z]{2}(-[A-Za-z]{2})?$")] | None = None


class UserOut(Out):
    id: int
    telegram_id: int
    username: str | None
    status: UserStatus
    is_trained: bool
    bonus_channels_count: int
    first_name: str | None = None
    last_name: str | None = None
    language: str | None = None
    last_activity_at: UtcDatetime | None = None


class UserEventIn(Body):
    event: UserEvent
    details: Annotated[dict[str, Any], AfterValidator(_no_nul_deep)] | None = None


# channels ------------------------------------------------------------------------------


class CreateChannel(Body):
    telegram_id: TelegramId
    username: Username | None = None
    title: Annotated[Text, Field(min_length=1, max_length=256)]
    is_default: bool = False


class ChannelOut(Out):
    id: int
    telegram_id: int
    username: str | None
    title: str
    is_default: bool


class ChannelList(Out):
    channels: list[ChannelOut]


class AddUserChannel(Body):
    channel: Annotated[Text, Field(min_length=1, max_length=128)]
    is_for_training: bool = True
    is_bonus: bool = False


class UserChannelOut(ChannelOut):
    is_for_training: bool
    is_bonus: bool


class UserChannelList(Out):
    channels: list[UserChannelOut]


# posts ---------------------------------------------------------------------------------


def _entity_type(value: str) -> str:
    if value not in formatting.ENTITY_TYPES:
        raise ValueError(f"unknown type {value[:40]!r} (Bot API MessageEntity types: bold, italic, "
                         "underline, strikethrough, spoiler, code, pre, text_link, blockquote, ...)")
    return value


def _link(value: str) -> str:
    if not formatting.safe_url(value):
        raise ValueError("must be an http, https or tg link with no spaces")
    return value


def _language(value: str) -> str:
    if not formatting.LANGUAGE.fullmatch(value):
        raise ValueError("must be a language name such as python or c++ (letters, digits, _+#.-, 32 at most)")
    return value


class EntityIn(Body):
    """A Bot API `MessageEntity` of a post's text; offsets and lengths count UTF-16 code units."""

    type: Annotated[str, AfterValidator(_entity_type)]
    offset: Annotated[int, Field(ge=0, le=2**31)]
    length: Annotated[int, Field(ge=1, le=2**31)]
    url: Annotated[str, AfterValidator(_link)] | None = None  # text_link only
    language: Annotated[str, AfterValidator(_language)] | None = None  # pre only

    def entity(self) -> formatting.Entity:
        return formatting.Entity(self.type, self.offset, self.length, self.url, self.language)


class PostIn(Body):
    telegram_message_id: Annotated[int, Field(ge=1, le=2**53)]
    text: Annotated[Text, Field(max_length=65536)] = ""
    media_type: MediaType = MediaType.TEXT
    posted_at: StoredDatetime
    entities: Annotated[list[EntityIn], Field(max_length=100)] | None = None
    """The text's formatting, as Telegram sends it; rendered to HTML by PPB (never taken as HTML)."""

    @model_validator(mode="after")
    def _entities_fit_the_text(self) -> PostIn:
        if not self.entities:
            return self
        found = formatting.problems(self.text, [entity.entity() for entity in self.entities])
        if found:
            raise ValidationError.from_exception_data("PostIn", [
                InitErrorDetails(type=PydanticCustomError("entity", "{reason}", {"reason": reason}), loc=("entities", index, field),
                                 input=getattr(self.entities[index], field))
                for index, field, reason in found])
        return self

    def formatted(self) -> formatting.Formatted:
        return formatting.Formatted(self.text, tuple(entity.entity() for entity in self.entities or ()))


class BulkPosts(Body):
    channel_telegram_id: TelegramId
    posts: Annotated[list[PostIn], Field(max_length=5000)]


class BulkPostsOut(Out):
    created_count: int
    post_ids: list[int]


class TrainingRequest(Body):
    user_telegram_id: TelegramId
    channel_usernames: Annotated[list[Annotated[Text, Field(max_length=128)]], Field(min_length=1, max_length=50)]
    posts_per_channel: Annotated[int, Field(ge=1, le=100)] = 7


class TrainingPost(Out):
    id: int
    channel_username: str | None
    channel_title: str
    text: str
    media_type: str
    posted_at: UtcDatetime
    telegram_message_id: int
    channel_telegram_id: int | None = None
    html: str | None = None  # the text with its formatting, as Telegram HTML; None: plain text


class TrainingPosts(Out):
    posts: list[TrainingPost]
    unknown_channels: list[str] = []
    """Channels named that PPB does not have (as `@name` or the id): scrape or import them."""


class RateRequest(Body):
    user_telegram_id: TelegramId
    post_id: RowId
    interaction_type: InteractionType
    if_rated: Literal["none", "like", "dislike", "skip"] | None = Field(
        None, description="The rating the client shows the person now (`none`: no rating). When the stored "
                          "one is another (rated elsewhere meanwhile), it is kept and answered with `kept`.")


class InteractionOut(Out):
    id: int
    user_id: int
    post_id: int
    interaction_type: InteractionType
    created_at: UtcDatetime


class RatingOut(InteractionOut):
    """The stored rating after a rating call."""

    kept: bool = Field(False, description="An earlier rating of another kind stayed (see `if_rated`); "
                                          "`interaction_type` is that one")
    previous: InteractionType | None = Field(
        None, description="The rating before this call, when `if_rated` was given (null: none)")


class InteractionList(Out):
    interactions: list[InteractionOut]


class BestRequest(Body):
    user_telegram_id: TelegramId
    limit: Annotated[int, Field(ge=1, le=100)] = 10


class BestPost(Out):
    id: int
    text: str
    channel_title: str
    relevance_score: float
    channel_id: int | None = None
    media_type: str | None = None
    posted_at: UtcDatetime | None = None
    html: str | None = None  # the text with its formatting, as Telegram HTML; None: plain text


class BestPosts(Out):
    posts: list[BestPost]


# ml ------------------------------------------------------------------------------------


class TrainRequest(Body):
    user_telegram_id: TelegramId


class TrainOut(Out):
    success: bool
    message: str
    training_time: float
    ratings_count: int | None = None


# errors --------------------------------------------------------------------------------


class ErrorOut(Out):
    detail: str
    status_code: int
