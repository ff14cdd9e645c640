"""Settings: defaults, and one clear line naming a wrong variable."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ppb.config import SettingsError, load_settings


def test_embedded_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    settings = load_settings()
    assert settings.http_host == "127.0.0.1" and settings.http_port == 8000
    assert settings.database_url_value == "sqlite:///./data/ppb.db"
    assert settings.async_database_url.startswith("sqlite+aiosqlite:///")
    assert settings.use_sandbox and settings.use_demo_data
    assert settings.default_channel_list == ["@durov", "@telegram"]
    assert settings.posts_per_channel == 7


def test_dotenv_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("PPB_HTTP_PORT=9123\nDATABASE_URL=postgresql://u@db:5432/ppb\n")
    settings = load_settings()
    assert settings.http_port == 9123
    assert settings.is_postgres
    assert settings.async_database_url == "postgresql+asyncpg://u@db:5432/ppb"


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("PPB_HTTP_PORT", "eighty", ["PPB_HTTP_PORT", "integer", "eighty"]),
        ("PPB_HTTP_PORT", "70000", ["PPB_HTTP_PORT", "65535"]),
        ("DATABASE_URL", "not a url", ["DATABASE_URL", "database URL"]),
        ("DATABASE_URL", "mysql://root@localhost/x", ["DATABASE_URL", "mysql"]),
        ("DATABASE_URL", "postgresql://host", ["DATABASE_URL", "database"]),
        ("REDIS_URL", "localhost:6379", ["REDIS_URL", "redis://"]),
        ("BOT_MODE", "push", ["BOT_MODE", "polling"]),
        ("POSTS_PER_CHANNEL", "0", ["POSTS_PER_CHANNEL"]),
    ],
)
def test_wrong_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path, variable: str, value: str, words: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert "\n" not in message
    for word in words:
        assert word in message


def test_api_key_required_off_loopback(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PPB_HTTP_HOST", "0.0.0.0")
    with pytest.raises(SettingsError, match="PPB_API_KEY"):
        load_settings()
    monkeypatch.setenv("PPB_API_KEY", "k3y-v4lue-long-enough")
    assert load_settings().api_key is not None
    assert "k3y-v4lue" not in repr(load_settings())


@pytest.mark.parametrize("key", ["", "   ", "short-key-15chr"], ids=["empty", "blank", "15-chars"])
def test_empty_or_short_api_key_refused_off_loopback(monkeypatch: pytest.MonkeyPatch, tmp_path, key: str) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PPB_HTTP_HOST", "0.0.0.0")
    monkeypatch.setenv("PPB_API_KEY", key)
    with pytest.raises(SettingsError, match="PPB_API_KEY") as caught:
        load_settings()
    assert "\n" not in str(caught.value) and (not key.strip() or key not in str(caught.value))
    monkeypatch.setenv("PPB_HTTP_HOST", "127.0.0.1")
    assert load_settings().api_key is None or len(key.strip()) > 0  # loopback: any key, or none


def test_sandbox_with_a_bot_token_is_refused_in_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "ppb", "migrate"],
        env={**os.environ, "PPB_SANDBOX": "1", "BOT_TOKEN": "123456:real-token-value"},
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "PPB_SANDBOX" in lines[0] and "BOT_TOKEN" in lines[0]
    assert "real-token-value" not in result.stderr


def test_sandbox_is_off_on_a_public_host_unless_asked(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    key = {"PPB_API_KEY": "a-key-of-sixteen-chars"}
    assert load_settings(**key).use_sandbox
    assert not load_settings(PPB_HTTP_HOST="0.0.0.0", **key).use_sandbox
    assert not load_settings(PPB_HTTP_HOST="203.0.113.7", **key).use_sandbox
    assert load_settings(PPB_HTTP_HOST="0.0.0.0", PPB_SANDBOX="1", **key).use_sandbox


@pytest.mark.parametrize("variable", ["DATABASE_URL", "REDIS_URL"])
def test_a_bad_url_is_reported_without_its_password(monkeypatch: pytest.MonkeyPatch, tmp_path, variable: str) -> None:
    monkeypatch.chdir(tmp_path)
    bad = "mysql://admin:hunter2-secret@db:3306/x" if variable == "DATABASE_URL" else "http://u:hunter2-secret@cache:6379"
    monkeypatch.setenv(variable, bad)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert variable in str(caught.value) and "hunter2" not in str(caught.value)
    assert "admin:***@" in str(caught.value) or "u:***@" in str(caught.value)


def test_urls_with_passwords_are_secret(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(
        DATABASE_URL="postgresql://ppb:pg-secret-pw@db:5432/ppb", REDIS_URL="redis://:redis-secret-pw@cache:6379/0"
    )
    shown = repr(settings) + str(settings.model_dump())
    assert "pg-secret-pw" not in shown and "redis-secret-pw" not in shown
    assert "pg-secret-pw" in settings.async_database_url  # the driver still gets it
    assert settings.redis_url_value == "redis://:redis-secret-pw@cache:6379/0"


def test_cli_prints_one_line_and_exits_2(tmp_path) -> None:
    env = {**os.environ, "PPB_HTTP_PORT": "abc"}
    result = subprocess.run(
        [sys.executable, "-m", "ppb", "migrate"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "PPB_HTTP_PORT" in lines[0]
