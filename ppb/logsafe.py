"""Secrets never reach a log: bot tokens (in Bot API paths such as `/bot<token>/getMe`, in
aiohttp's error messages, in Serve's access log of the sandbox) and URL passwords.

Installed as a log record factory, so it covers every logger of the process (aiogram,
aiohttp, Ray Serve's access log) whatever handlers they have.
"""

from __future__ import annotations

import logging
import re
import traceback
from typing import Any

TOKEN = re.compile(r"(?<![0-9])\d{5,12}:[A-Za-z0-9_-]{30,}")
URL_PASSWORD = re.compile(r"(\w+://[^:/@\s]*:)[^@\s/]+@")
_MARK = "_ppb_redacts"


def redact(text: str) -> str:
    """The text with bot tokens and URL passwords replaced."""
    if ":" not in text:
        return text
    return URL_PASSWORD.sub(r"\1***@", TOKEN.sub("<bot token>", text))


def _redact_arg(value: Any) -> Any:
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    text = str(value)
    cleaned = redact(text)
    return value if cleaned == text else cleaned


def _clean(record: logging.LogRecord) -> None:
    if isinstance(record.msg, str):
        record.msg = redact(record.msg)
    if isinstance(record.args, tuple):
        record.args = tuple(_redact_arg(arg) for arg in record.args)
    elif isinstance(record.args, dict):
        record.args = {key: _redact_arg(arg) for key, arg in record.args.items()}
    if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
        record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))


def install() -> None:
    """Redact every log record this process makes from now on (idempotent)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, _MARK, False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        _clean(record)
        return record

    setattr(factory, _MARK, True)
    logging.setLogRecordFactory(factory)
