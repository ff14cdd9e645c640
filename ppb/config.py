"""Settings: one object read from the environment and `.env`, passed explicitly."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_DATABASE_URL = "sqlite:///./data/ppb.db"
SQLITE_SCHEMES = {"sqlite", "sqlite+aiosqlite"}
POSTGRES_SCHEMES = {"postgresql", "postgres", "postgresql+asyncpg"}
MIN_API_KEY_LENGTH = 16
WILDCARD_HOSTS = {"0.0.0.0", "::", ""}
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
SECRET_URLS = {"DATABASE_URL", "REDIS_URL"}


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
    allowed_hosts: str | None = Field(None, **_env("PPB_ALLOWED_HOSTS"))
    max_body_bytes: int = Field(8 * 1024 * 1024, ge=1024, le=1024**3, **_env("PPB_MAX_BODY_BYTES"))
    database_url: SecretStr = Field(SecretStr(DEFAULT_DATABASE_URL), **_env("DATABASE_URL"))
    redis_url: SecretStr | None = Field(None, **_env("REDIS_URL"))

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
    outbox_rate: float = Field(30.0, gt=0, le=1000, **_env("PPB_OUTBOX_RATE"))
    outbox_per_chat_s: float = Field(1.0, ge=0, le=3600, **_env("PPB_OUTBOX_PER_CHAT_S"))
    push_hourly_cap: int = Field(3, ge=0, le=1000, **_env("PPB_PUSH_HOURLY_CAP"))
    push_daily_cap: int = Field(10, ge=0, le=10_000, **_env("PPB_PUSH_DAILY_CAP"))
    digest_size: int = Field(10, ge=1, le=30, **_env("PPB_DIGEST_SIZE"))
    digest_check_interval: float = Field(60, gt=0, **_env("PPB_DIGEST_CHECK_INTERVAL"))
    user_shards: int = Field(4, ge=1, le=1024, **_env("PPB_USER_SHARDS"))
    chat_shards: int = Field(4, ge=1, le=1024, **_env("PPB_CHAT_SHARDS"))
    shard_idle_after: float = Field(600, gt=0, **_env("PPB_SHARD_IDLE_AFTER"))
    chat_registry_limit: int = Field(200, ge=10, le=10_000, **_env("PPB_CHAT_REGISTRY_LIMIT"))
    ray_namespace: str = Field("ppb", min_length=1, **_env("PPB_RAY_NAMESPACE"))
    max_bonus_channels: int = Field(5, ge=0, le=100, **_env("PPB_MAX_BONUS_CHANNELS"))
    scraper_max_channels: int = Field(300, ge=1, le=10_000, **_env("PPB_SCRAPER_MAX_CHANNELS"))
    bot_updates_per_s: float = Field(4.0, gt=0, le=1000, **_env("PPB_BOT_UPDATES_PER_S"))
    bot_burst: int = Field(12, ge=1, le=1000, **_env("PPB_BOT_BURST"))
    bot_cooldown: float = Field(10.0, ge=0, le=3600, **_env("PPB_BOT_COOLDOWN"))
    demo_data: bool | None = Field(None, **_env("PPB_DEMO_DATA"))
    scrape_interval: float = Field(300, gt=0, **_env("PPB_SCRAPE_INTERVAL"))
    ray_address: str | None = Field(None, **_env("RAY_ADDRESS"))
    ray_dashboard: bool = Field(True, **_env("PPB_RAY_DASHBOARD"))
    console_session_ttl: float = Field(8 * 3600, ge=60, le=30 * 86400, **_env("PPB_CONSOLE_SESSION_TTL"))

    api_replicas: int = Field(1, ge=1, le=64, **_env("PPB_API_REPLICAS"))
    serve_proxy: Literal["haproxy", "default"] = Field("haproxy", **_env("PPB_SERVE_PROXY"))
    serve_access_log: bool = Field(False, **_env("PPB_SERVE_ACCESS_LOG"))
    scorer_max_replicas: int = Field(2, ge=1, le=64, **_env("PPB_SCORER_MAX_REPLICAS"))
    scorer_cpus: float = Field(1.0, ge=0, le=64, **_env("PPB_SCORER_CPUS"))
    scorer_vector_cache: int = Field(100_000, ge=1_000, le=10_000_000, **_env("PPB_SCORER_VECTOR_CACHE"))
    scorer_blas_threads: int = Field(1, ge=1, le=64, **_env("PPB_SCORER_BLAS_THREADS"))
    embeddings: Literal["use", "use-static", "static", "minilm", "off"] = Field("use", **_env("PPB_EMBEDDINGS"))
    embedders: int = Field(1, ge=1, le=64, **_env("PPB_EMBEDDERS"))
    embedder_cpus: float = Field(0.0, ge=0, le=64, **_env("PPB_EMBEDDER_CPUS"))
    exploration: float = Field(0.1, ge=0, le=0.5, **_env("PPB_EXPLORATION"))
    collaborative: bool = Field(True, **_env("PPB_COLLABORATIVE"))

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: SecretStr) -> SecretStr:
        try:
            url = make_url(value.get_secret_value())
        except ArgumentError:
            raise ValueError("not a database URL (expected sqlite:///path or postgresql://host/db)")
        if url.drivername not in SQLITE_SCHEMES | POSTGRES_SCHEMES:
            raise ValueError(f"unsupported scheme {url.drivername!r} (use sqlite or postgresql)")
        if url.drivername in POSTGRES_SCHEMES and not url.database:
            raise ValueError("names no database (postgresql://user@host:port/DATABASE)")
        return value

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: SecretStr | None) -> SecretStr | None:
        raw = value.get_secret_value() if value is not None else ""
        if raw and not raw.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value if raw else None

    @field_validator("api_key", "bot_token", "webhook_secret")
    @classmethod
    def _empty_is_unset(cls, value: SecretStr | None) -> SecretStr | None:
        return value if value is not None and value.get_secret_value().strip() else None

    @model_validator(mode="after")
    def _check_safety(self) -> Settings:
        if self.sandbox and self.bot_token is not None:
            raise ValueError(
                "PPB_SANDBOX=1 and BOT_TOKEN: the sandbox never runs with a real bot token; "
                "unset one of them"
            )
        check_api_key(self.api_key, self.http_host, "PPB_HTTP_HOST")
        return self

    @property
    def database_url_value(self) -> str:
        """DATABASE_URL as written, password included (for drivers only, never for logs)."""
        return self.database_url.get_secret_value()

    @property
    def redis_url_value(self) -> str | None:
        """REDIS_URL as written, password included, or None."""
        return self.redis_url.get_secret_value() if self.redis_url is not None else None

    @property
    def activity_every(self) -> float:
        """Seconds within which a person's activity is stamped once (the bot's report of an
        update, a rating's stamp on SQLite): a minute, less when the quiet and churn times are
        short (tests, demos), so retention never sees a stamp older than a tenth of either."""
        return min(60.0, self.nudge_after / 10, self.churn_after / 10)

    @property
    def is_postgres(self) -> bool:
        return make_url(self.database_url_value).drivername in POSTGRES_SCHEMES

    @property
    def async_database_url(self) -> str:
        """The URL with the async driver `databases` and Alembic use."""
        url = make_url(self.database_url_value)
        driver = "postgresql+asyncpg" if self.is_postgres else "sqlite+aiosqlite"
        return url.set(drivername=driver).render_as_string(hide_password=False)

    @property
    def sqlite_path(self) -> Path | None:
        if self.is_postgres:
            return None
        database = make_url(self.database_url_value).database
        return Path(database) if database and database != ":memory:" else None

    @property
    def use_sandbox(self) -> bool:
        """PPB_SANDBOX when set; else on without BOT_TOKEN, on a loopback host only."""
        if self.sandbox is not None:
            return self.sandbox
        return self.bot_token is None and is_loopback(self.http_host)

    @property
    def trusted_hosts(self) -> list[str]:
        """Host header values the app answers: PPB_ALLOWED_HOSTS, else this host's names
        (any host when it listens on every interface: the API key guards it then)."""
        if self.allowed_hosts:
            return [name.strip() for name in self.allowed_hosts.split(",") if name.strip()]
        if self.http_host in WILDCARD_HOSTS:
            return ["*"]
        names = [self.http_host, *LOOPBACK_NAMES] if is_loopback(self.http_host) else [self.http_host]
        for url in (self.miniapp_url, self.webhook_url):
            if url and urlsplit(url).hostname:
                names.append(str(urlsplit(url).hostname))
        return list(dict.fromkeys(names))

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
            return list(DEMO_USERNAMES)
        return self.default_channel_list


DEMO_USERNAMES = (
    "@ppb_demo_tech", "@ppb_demo_science", "@ppb_demo_kitchen", "@ppb_demo_football",
    "@ppb_demo_travel", "@ppb_demo_kino", "@ppb_demo_dengi",
)
"""The channels `ppb/scraper/demo.py` generates (tests/test_demo.py checks they agree)."""


def sandbox_bot_token(settings: Settings) -> str:
    """The sandbox's own bot token, derived from this deployment, never from `BOT_TOKEN`.

    It is derived from the API key, or the database URL when there is none (loopback only),
    so every replica and the sandbox agree without sharing a file. It has a real token's
    shape (`<digits>:<35 characters>`), so aiogram accepts it too.
    """
    material = settings.api_key.get_secret_value() if settings.api_key else settings.database_url_value
    digest = hmac.new(material.encode(), b"ppb:sandbox-bot-token", hashlib.sha256).digest()
    bot_id = 1_000_000_000 + int.from_bytes(digest[:4], "big") % 9_000_000_000
    secret = base64.urlsafe_b64encode(digest[4:]).decode().rstrip("=")[:35]
    return f"{bot_id}:{secret}"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_api_key(api_key: SecretStr | None, host: str, where: str) -> None:
    """Off loopback an API key of MIN_API_KEY_LENGTH characters or more is required."""
    if is_loopback(host):
        return
    if api_key is None:
        raise ValueError(f"PPB_API_KEY: required when {where} ({host}) is not a loopback address")
    if len(api_key.get_secret_value()) < MIN_API_KEY_LENGTH:
        raise ValueError(
            f"PPB_API_KEY: at least {MIN_API_KEY_LENGTH} characters when {where} ({host}) "
            "is not a loopback address"
        )


def mask_url(url: str) -> str:
    """The URL with its password replaced by ***, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


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
        if isinstance(got, str) and name in SECRET_URLS:
            got = mask_url(got)
        suffix = f" (got {got!r})" if isinstance(got, str | int | float) and item["loc"] else ""
        lines.append(f"{name}: {message}{suffix}")
    return "; ".join(lines)


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment; a wrong value raises SettingsError naming it."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        raise SettingsError(describe_error(error)) from None


def rebind(settings: Settings, host: str, port: int | None = None) -> Settings:
    """The same settings for the host (and port) the server really binds, checked again:
    off loopback that means an API key, and the sandbox off unless PPB_SANDBOX=1."""
    values: dict[str, object] = {}
    for name in settings.model_fields_set:
        value = getattr(settings, name)
        alias = Settings.model_fields[name].validation_alias.choices[0]  # type: ignore[union-attr]
        values[alias] = value.get_secret_value() if isinstance(value, SecretStr) else value
    values["PPB_HTTP_HOST"] = host
    if port is not None:
        values["PPB_HTTP_PORT"] = port
    return load_settings(**values)
