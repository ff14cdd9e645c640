"""Settings: one object read from the environment and `.env`, passed explicitly."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_DATABASE_URL = "sqlite:///./data/ppb.db"
SQLITE_SCHEMES = {"sqlite", "sqlite+aiosqlite"}
POSTGRES_SCHEMES = {"postgresql", "postgres", "postgresql+asyncpg"}


def _env(name: str) -> dict:
    """Field options binding a setting to exactly one environment variable."""
    return {"validation_alias": AliasChoices(name)}


class SettingsError(ValueError):
    """A setting has a wrong value; the message is one line naming the variable."""


class Settings(BaseSettings):
    """Every knob of PPB. Names are the environment variables of DESIGN section 3."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=False
    )

    http_host: str = Field("127.0.0.1", **_env("PPB_HTTP_HOST"))
    http_port: int = Field(8000, ge=1, le=65535, **_env("PPB_HTTP_PORT"))
    api_key: SecretStr | None = Field(None, **_env("PPB_API_KEY"))
    database_url: str = Field(DEFAULT_DATABASE_URL, **_env("DATABASE_URL"))
    redis_url: str | None = Field(None, **_env("REDIS_URL"))

    bot_token: SecretStr | None = Field(None, **_env("BOT_TOKEN"))
    sandbox: bool | None = Field(None, **_env("PPB_SANDBOX"))
    bot_api_base: str = Field("https://api.telegram.org", **_env("BOT_API_BASE"))
    bot_mode: Literal["polling", "webhook"] = Field("polling", **_env("BOT_MODE"))
    webhook_url: str | None = Field(None, **_env("WEBHOOK_URL"))
    webhook_secret: SecretStr | None = Field(None, **_env("WEBHOOK_SECRET"))

    telegram_api_id: int | None = Field(None, **_env("TELEGRAM_API_ID"))
    telegram_api_hash: SecretStr | None = Field(None, **_env("TELEGRAM_API_HASH"))
    telethon_session: SecretStr | None = Field(None, **_env("TELETHON_SESSION"))
    miniapp_url: str | None = Field(None, **_env("MINIAPP_URL"))
    miniapp_auth_max_age: float = Field(86400, gt=0, **_env("MINIAPP_AUTH_MAX_AGE"))

    default_channels: str = Field("@durov,@telegram", **_env("DEFAULT_CHANNELS"))
    posts_per_channel: int = Field(7, ge=1, le=100, **_env("POSTS_PER_CHANNEL"))
    nudge_after: float = Field(24 * 3600, gt=0, **_env("NUDGE_AFTER"))
    churn_after: float = Field(14 * 24 * 3600, gt=0, **_env("CHURN_AFTER"))
    nudge_check_interval: float = Field(300, gt=0, **_env("NUDGE_CHECK_INTERVAL"))
    nudge_daily_cap: int = Field(1, ge=0, le=100, **_env("PPB_NUDGE_DAILY_CAP"))
    nudge_batch: int = Field(1000, ge=1, le=100_000, **_env("PPB_NUDGE_BATCH"))
    user_shards: int = Field(4, ge=1, le=1024, **_env("PPB_USER_SHARDS"))
    chat_shards: int = Field(4, ge=1, le=1024, **_env("PPB_CHAT_SHARDS"))
    shard_idle_after: float = Field(600, gt=0, **_env("PPB_SHARD_IDLE_AFTER"))
    chat_registry_limit: int = Field(200, ge=10, le=10_000, **_env("PPB_CHAT_REGISTRY_LIMIT"))
    ray_namespace: str = Field("ppb", min_length=1, **_env("PPB_RAY_NAMESPACE"))
    max_bonus_channels: int = Field(5, ge=0, le=100, **_env("PPB_MAX_BONUS_CHANNELS"))
    demo_data: bool | None = Field(None, **_env("PPB_DEMO_DATA"))
    scrape_interval: float = Field(300, gt=0, **_env("PPB_SCRAPE_INTERVAL"))
    ray_address: str | None = Field(None, **_env("RAY_ADDRESS"))
    console_session_ttl: float = Field(8 * 3600, ge=60, le=30 * 86400, **_env("PPB_CONSOLE_SESSION_TTL"))

    api_replicas: int = Field(1, ge=1, le=64, **_env("PPB_API_REPLICAS"))
    serve_proxy: Literal["haproxy", "default"] = Field("haproxy", **_env("PPB_SERVE_PROXY"))
    scorer_max_replicas: int = Field(2, ge=1, le=64, **_env("PPB_SCORER_MAX_REPLICAS"))
    scorer_cpus: float = Field(1.0, ge=0, le=64, **_env("PPB_SCORER_CPUS"))
    scorer_vector_cache: int = Field(100_000, ge=1_000, le=10_000_000, **_env("PPB_SCORER_VECTOR_CACHE"))

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError("not a database URL (expected sqlite:///path or postgresql://host/db)")
        if url.drivername not in SQLITE_SCHEMES | POSTGRES_SCHEMES:
            raise ValueError(f"unsupported scheme {url.drivername!r} (use sqlite or postgresql)")
        if url.drivername in POSTGRES_SCHEMES and not url.database:
            raise ValueError("names no database (postgresql://user@host:port/DATABASE)")
        return value

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value or None

    @model_validator(mode="after")
    def _require_key_off_loopback(self) -> Settings:
        if self.api_key is None and not _is_loopback(self.http_host):
            raise ValueError(
                "PPB_API_KEY: required when PPB_HTTP_HOST is not a loopback address"
            )
        return self

    @property
    def is_postgres(self) -> bool:
        return make_url(self.database_url).drivername in POSTGRES_SCHEMES

    @property
    def async_database_url(self) -> str:
        """The URL with the async driver `databases` and Alembic use."""
        url = make_url(self.database_url)
        driver = "postgresql+asyncpg" if self.is_postgres else "sqlite+aiosqlite"
        return url.set(drivername=driver).render_as_string(hide_password=False)

    @property
    def sqlite_path(self) -> Path | None:
        if self.is_postgres:
            return None
        database = make_url(self.database_url).database
        return Path(database) if database and database != ":memory:" else None

    @property
    def use_sandbox(self) -> bool:
        return self.sandbox if self.sandbox is not None else self.bot_token is None

    @property
    def use_demo_data(self) -> bool:
        return self.demo_data if self.demo_data is not None else self.telethon_session is None

    @property
    def default_channel_list(self) -> list[str]:
        return [name.strip() for name in self.default_channels.split(",") if name.strip()]

    @property
    def effective_default_channels(self) -> list[str]:
        """The channels new users train on: DEFAULT_CHANNELS when set, else the demo channels
        in demo mode, else the documented default (@durov, @telegram)."""
        if "default_channels" not in self.model_fields_set and self.use_demo_data:
            from ppb.scraper.demo import DEMO_USERNAMES

            return list(DEMO_USERNAMES)
        return self.default_channel_list


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def describe_error(error: ValidationError) -> str:
    """One line per wrong variable: `NAME: reason (got 'value')`."""
    lines = []
    for item in error.errors():
        name = ".".join(str(part) for part in item["loc"]) or "settings"
        message = str(item["msg"]).removeprefix("Value error, ")
        if not item["loc"] and ":" in message:
            lines.append(message)
            continue
        got = item.get("input")
        suffix = f" (got {got!r})" if isinstance(got, str | int | float) and item["loc"] else ""
        lines.append(f"{name}: {message}{suffix}")
    return "; ".join(lines)


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment; a wrong value raises SettingsError naming it."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        raise SettingsError(describe_error(error)) from None


@lru_cache(maxsize=1)
def cached_settings() -> Settings:
    """The process-wide settings, for entry points only (CLI, Serve replicas)."""
    return load_settings()
