"""Request and response bodies of the REST API; responses carry exactly the contract fields."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, GetJsonSchemaHandler, model_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import InitErrorDetails, PydanticCustomError, ValidationError

from ppb.domain import formatting
from ppb.domain.channels import CHANNEL_PATTERN, USERNAME_PATTERN
from ppb.domain.channels import MAX_LENGTH as CHANNEL_MAX_LENGTH
from ppb.domain.interactions import InteractionType, MediaType
from ppb.domain.status import UserEvent, UserStatus
from ppb.store.base import as_utc

INT64_MAX = 2**63 - 1
NO_NUL = r"^[^\x00]*$"
"""The pattern every text the store keeps matches: PostgreSQL refuses NUL in text."""


def _whole(value: Any) -> Any:
    """A JSON number without a fraction is an integer, as JSON Schema reads it (6517.0 is 6517);
    strings, booleans and fractions stay refused."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


WHOLE = BeforeValidator(_whole)
"""Put after an integer field's bounds (`Annotated[int, Field(ge=1), WHOLE]`), so the schema
states them: 6517.0 is read as 6517."""
TelegramId = Annotated[int, Field(ge=-(2**63), le=INT64_MAX), WHOLE]
RowId = Annotated[int, Field(ge=1, le=INT64_MAX), WHOLE]


@dataclass(frozen=True)
class Stated:
    """Keywords the JSON schema states for a value whose validator enforces them in words of
    its own (a pattern, an enum): the document says what the server checks."""

    keywords: dict[str, Any]

    def __hash__(self) -> int:
        return hash(repr(sorted(self.keywords.items())))

    def __get_pydantic_json_schema__(self, core: Any, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = handler(core)
        target = handler.resolve_ref_schema(schema)
        target.update(self.keywords)
        return schema


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
    elif isinstance(value, float) and value.is_integer() and not -(2**63) <= value <= INT64_MAX:
        raise ValueError("numbers must fit in 64 bits")  # 1e300 is an integer to JSON Schema
    return value


JSON_VALUE = "#/components/schemas/JsonValue"
JSON_VALUE_SCHEMA: dict[str, Any] = {
    "description": "Any JSON value without NUL in its strings and keys, its integers within 64 bits",
    "anyOf": [
        {"type": "string", "pattern": NO_NUL},
        {"type": "integer", "minimum": -(2**63), "maximum": INT64_MAX},
        {"type": "number", "not": {"type": "integer"}},
        {"type": "boolean"},
        {"type": "null"},
        {"type": "array", "items": {"$ref": JSON_VALUE}},
        {"type": "object", "propertyNames": {"pattern": NO_NUL}, "additionalProperties": {"$ref": JSON_VALUE}},
    ],
}
"""What `_no_nul_deep` admits, for the OpenAPI document's components (`JsonValue`)."""


def not_null(schema: dict[str, Any]) -> None:
    """`json_schema_extra` of an optional field that may be left out but not sent as null."""
    options = [option for option in schema.pop("anyOf", []) if option.get("type") != "null"]
    if len(options) == 1:
        schema.update(options[0])
    elif options:
        schema["anyOf"] = options
    schema.pop("default", None)


Text = Annotated[str, AfterValidator(_no_nul), Stated({"pattern": NO_NUL})]
"""Any text that reaches the store: PostgreSQL refuses NUL in text."""
Username = Annotated[Text, Field(max_length=64)]
Name = Annotated[Text, Field(max_length=128)]
ChannelText = Annotated[Text, Field(min_length=1, max_length=CHANNEL_MAX_LENGTH), Stated({"pattern": CHANNEL_PATTERN})]
"""A channel as a client names it (`ChannelName.parse`): @name, name, a t.me link or a -100… id."""
ChannelUsername = Annotated[Text, Field(max_length=64), Stated({"pattern": USERNAME_PATTERN})]
"""A channel's username (`ChannelName.parse_username`): @name, name or a t.me link, never an id."""


def _utc(value: datetime) -> datetime:
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
    model_config = ConfigDict(json_schema_extra={"examples": [{"telegram_id": 123456789, "username": "john_doe", "first_name": "John", "language": "en"}]})

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
    model_config = ConfigDict(json_schema_extra={"examples": [{"event": "start"}]})

    event: UserEvent
    details: Annotated[dict[str, Any], AfterValidator(_no_nul_deep),
                       Stated({"propertyNames": {"pattern": NO_NUL}, "additionalProperties": {"$ref": JSON_VALUE}})] | None = None


# channels ------------------------------------------------------------------------------


class CreateChannel(Body):
    model_config = ConfigDict(json_schema_extra={"examples": [{"telegram_id": -1001234567890, "username": "@example_news", "title": "Example News"}]})

    telegram_id: TelegramId
    username: ChannelUsername | None = None
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
    model_config = ConfigDict(json_schema_extra={"examples": [{"channel": "@example_news", "is_bonus": True}]})

    channel: ChannelText
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


LANGUAGE_PATTERN = "^" + formatting.LANGUAGE.pattern + "$"


class EntityIn(Body):
    """A Bot API `MessageEntity` of a post's text; offsets and lengths count UTF-16 code units.
    A `text_link` needs its `url`."""

    model_config = ConfigDict(json_schema_extra={
        "if": {"properties": {"type": {"const": "text_link"}}, "required": ["type"]},
        "then": {"required": ["url"], "properties": {"url": {"type": "string"}}},
    })

    type: Annotated[str, AfterValidator(_entity_type), Stated({"enum": sorted(formatting.ENTITY_TYPES)})]
    offset: Annotated[int, Field(ge=0, le=2**31), WHOLE]
    length: Annotated[int, Field(ge=1, le=2**31), WHOLE]
    url: Annotated[str, AfterValidator(_link), Stated({"pattern": formatting.URL_PATTERN, "maxLength": formatting.MAX_URL})] | None = None  # text_link only
    language: Annotated[str, AfterValidator(_language), Stated({"pattern": LANGUAGE_PATTERN})] | None = None  # pre only

    def entity(self) -> formatting.Entity:
        return formatting.Entity(self.type, self.offset, self.length, self.url, self.language)


class PostIn(Body):
    """A post; its `entities` must lie within its `text` (offsets and lengths in UTF-16 code
    units, never cutting a character in two), which the server checks (422 naming the entity)."""

    telegram_message_id: Annotated[int, Field(ge=1, le=2**53), WHOLE]
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
    model_config = ConfigDict(json_schema_extra={"examples": [{"channel_telegram_id": -1001234567890, "posts": [{"telegram_message_id": 1, "text": "Rust 2.0 is out", "posted_at": "2024-03-01T09:00:00Z", "entities": [{"type": "bold", "offset": 0, "length": 4}]}]}]})

    channel_telegram_id: TelegramId
    posts: Annotated[list[PostIn], Field(max_length=5000)]


class BulkPostsOut(Out):
    created_count: int
    post_ids: list[int]


class TrainingRequest(Body):
    model_config = ConfigDict(json_schema_extra={"examples": [{"user_telegram_id": 123456789, "channel_usernames": ["@example_news"], "posts_per_channel": 7}]})

    user_telegram_id: TelegramId
    channel_usernames: Annotated[list[ChannelText], Field(min_length=1, max_length=50)]
    posts_per_channel: Annotated[int, Field(ge=1, le=100), WHOLE] = 7


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
    model_config = ConfigDict(json_schema_extra={"examples": [{"user_telegram_id": 123456789, "post_id": 1, "interaction_type": "like"}]})

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
    model_config = ConfigDict(json_schema_extra={"examples": [{"user_telegram_id": 123456789, "limit": 10}]})

    user_telegram_id: TelegramId
    limit: Annotated[int, Field(ge=1, le=100), WHOLE] = 10


class AlsoIn(Out):
    """Another channel where the post's story appeared (a near-duplicate collapsed into it)."""

    post_id: int
    channel_title: str
    channel_username: str | None = None
    url: str | None = Field(None, description="The copy on t.me, when its channel has a username")


ALSO_IN = ("The other channels the same story appeared in, one entry each: their copies are collapsed into "
           "this post, and once it is rated they are never shown")


class BestPost(Out):
    id: int
    text: str
    channel_title: str
    relevance_score: float
    channel_id: int | None = None
    media_type: str | None = None
    posted_at: UtcDatetime | None = None
    html: str | None = None  # the text with its formatting, as Telegram HTML; None: plain text
    also_in: list[AlsoIn] = Field(default_factory=list, description=ALSO_IN)


class BestPosts(Out):
    posts: list[BestPost]


class ExplainRequest(Body):
    model_config = ConfigDict(json_schema_extra={"examples": [{"user_telegram_id": 123456789, "post_id": 1}]})

    user_telegram_id: TelegramId
    post_id: RowId
    surface: Literal["api", "chat"] = Field("api", description="Where the person asked, kept for the console's "
                                            "statistics: `chat` for the bot's ❓ (a bot running apart from the API)")


class NamedPost(Out):
    id: int
    quote: str = Field(description="The post's first words")


class ReasonOut(Out):
    kind: Literal["must", "explore", "liked", "text", "peers", "channel", "dial"] = Field(
        description="`liked`: near posts the person liked (by the spreading over similar posts); `text`: its words "
                    "are like theirs (the regression); `peers`: people who like what they like liked it; `channel`: "
                    "the channel's record with them (before any rating); `dial`: they turned the channel up; "
                    "`explore`: the page's exploration slot (a topic not rated yet); `must`: a must-see word")
    contribution: float = Field(description="Log-odds the term added over the page's average post "
                                            "(before any rating: score); 0 for `explore` and `must`")
    posts: list[NamedPost] = Field(description="The liked posts behind `liked` and `text`, strongest first")
    detail: str = Field(description="The channel (`channel`, `dial`) or the word (`must`); else empty")


class ExplainOut(Out):
    post_id: int
    score: float = Field(description="The post's score for the person, as the feed ranked it")
    learned: bool = Field(description="False before the person's first rating (the channel's record decides)")
    reasons: list[ReasonOut] = Field(description="Strongest first; empty when nothing lifted the post")
    terms: dict[str, float] = Field(description="Every term of the score by name, reasons or not")


# ml ------------------------------------------------------------------------------------


class TrainRequest(Body):
    model_config = ConfigDict(json_schema_extra={"examples": [{"user_telegram_id": 123456789}]})

    user_telegram_id: TelegramId


class TrainOut(Out):
    success: bool
    message: str
    training_time: float
    ratings_count: int | None = None


# errors --------------------------------------------------------------------------------


class ErrorOut(Out):
    """Every error: what was wrong (a field's name first, when a field was) and the status."""

    detail: Annotated[str, Field(min_length=1)]
    status_code: Annotated[int, Field(ge=400, le=599)]
