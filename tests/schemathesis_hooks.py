"""Schemathesis hooks for `st run` against PPB (SCHEMATHESIS_HOOKS=tests.schemathesis_hooks):
the Mini App's routes are called as a person signed by Telegram's initData (a new person per
call, as each launch of the app is), every other route with the API key (`-H X-API-Key: …`).

The bot token the initData is signed with comes from the same settings the server runs with
(DATABASE_URL and PPB_API_KEY in this process's environment).
"""

from __future__ import annotations

import functools
import itertools
import json
import uuid
from typing import Any

import schemathesis
from schemathesis.generation.modes import GenerationMode

from ppb.config import load_settings
from ppb.domain import formatting
from ppb.http.miniapp_auth import miniapp_bot_token, sign_init_data

_people = itertools.count(10**12 + uuid.uuid4().int % 10**9)


@functools.cache
def _token() -> str:
    return miniapp_bot_token(load_settings())


@schemathesis.auth().apply_to(path_regex="^/api/v1/miniapp/")
class MiniAppInitData:
    """`Authorization: tma <initData>` of a fresh person each time (cached by schemathesis for
    its refresh interval, like any auth)."""

    def get(self, case: Any, context: Any) -> str:
        user = {"id": next(_people), "first_name": "Fuzz", "language_code": "en"}
        return sign_init_data(_token(), user)

    def set(self, case: Any, data: str, context: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"tma {data}"}


# Rules JSON Schema cannot state, which the operations' descriptions do: a case generated as
# valid is made to keep them (cases generated as invalid are sent as they are).


def _positive(case: Any) -> bool:
    meta = getattr(case, "meta", None)
    return meta is not None and meta.generation.mode == GenerationMode.POSITIVE


def _fitting(post: dict[str, Any]) -> dict[str, Any]:
    """The post with only the entities that lie within its text (clipped to it first)."""
    entities = post.get("entities")
    text = post.get("text", "")
    if not isinstance(entities, list) or not isinstance(text, str):
        return post
    size = len(text.encode("utf-16-le")) // 2
    kept = []
    for entity in entities:
        if size == 0:
            break
        offset = min(int(entity["offset"]), size - 1)
        clipped = {**entity, "offset": offset, "length": max(1, min(int(entity["length"]), size - offset))}
        made = formatting.Entity(clipped["type"], clipped["offset"], clipped["length"], clipped.get("url"),
                                 clipped.get("language"))
        if not formatting.problems(text, [made]):
            kept.append(clipped)
    return {**post, "entities": kept}


@schemathesis.hook("map_case").apply_to(method="POST", path="/api/v1/posts/bulk")
def entities_within_the_text(context: Any, case: Any) -> Any:
    if _positive(case) and isinstance(case.body, dict) and isinstance(case.body.get("posts"), list):
        case.body = {**case.body, "posts": [_fitting(p) if isinstance(p, dict) else p for p in case.body["posts"]]}
    return case


@schemathesis.hook("map_case").apply_to(method="POST", path="/api/v1/admin/experiments")
def variant_names_unique(context: Any, case: Any) -> Any:
    variants = case.body.get("variants") if isinstance(case.body, dict) else None
    if _positive(case) and isinstance(variants, list):
        renamed = [{**v, "name": f"{str(v.get('name'))[:58]}-{i}"} if isinstance(v, dict) else v
                   for i, v in enumerate(variants)]
        case.body = {**case.body, "variants": renamed}
    return case


@schemathesis.hook("map_case").apply_to(method="PATCH", path_regex="/rules$")
def rules_the_server_can_take(context: Any, case: Any) -> Any:
    """Quiet hours cleared together; channel dials of no channel (a dial must name a channel
    PPB has, which a generated name is not: the 422 says so)."""
    body = case.body
    if _positive(case) and isinstance(body, dict):
        ends = [key for key in ("quiet_start", "quiet_end") if key in body]
        if len(ends) == 1 and body[ends[0]] is None or len(ends) == 2 and [body[k] for k in ends].count(None) == 1:
            case.body = {key: value for key, value in body.items() if not (key in ends and value is None)}
        if isinstance(case.body, dict) and "channel_dials" in case.body:
            case.body = {**case.body, "channel_dials": {}}
    return case


@schemathesis.check
def errors_in_the_documented_shape(context: Any, response: Any, case: Any) -> bool | None:
    """Every error is `{"detail": "<what, why>", "status_code": <the response's status>}`."""
    if response.status_code < 400:
        return None
    try:
        body = json.loads(response.content)
    except ValueError:
        raise AssertionError(f"a {response.status_code} whose body is not JSON: {response.content[:200]!r}") from None
    if not (isinstance(body, dict) and set(body) == {"detail", "status_code"} and body["status_code"] == response.status_code
            and isinstance(body["detail"], str) and body["detail"]):
        raise AssertionError(f"a {response.status_code} out of the documented shape: {str(body)[:200]}")
    return True
