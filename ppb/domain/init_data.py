"""initData signed as Telegram signs it: the sandbox opens the Mini App with it, the API checks
it (`ppb.http.miniapp_auth`), tests make it."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode


def sign_init_data(
    token: str, user: Mapping[str, Any], *, auth_date: int | None = None, **fields: str
) -> str:
    """initData for `user` as Telegram would send it, signed with `token` (sandbox, tests)."""
    data: dict[str, str] = {
        **fields,
        "user": json.dumps(dict(user), separators=(",", ":"), ensure_ascii=False),
        "auth_date": str(int(time.time()) if auth_date is None else auth_date),
    }
    check = "\n".join(f"{key}={value}" for key, value in sorted(data.items()))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    data["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode(data)
