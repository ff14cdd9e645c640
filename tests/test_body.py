"""Reading a request's body: whole in one ASGI message, or in chunks through Starlette."""

from __future__ import annotations

import pytest
from starlette.requests import ClientDisconnect, Request

from ppb.http.body import read_body

SCOPE = {"type": "http", "method": "POST", "path": "/", "headers": [], "query_string": b""}


def receiving(*messages: dict) -> Request:
    queue = list(messages)

    async def receive() -> dict:
        return queue.pop(0)

    return Request(SCOPE, receive)


async def test_a_body_in_one_message_is_read_as_it_came() -> None:
    assert await read_body(receiving({"type": "http.request", "body": b'{"a": 1}'})) == b'{"a": 1}'


async def test_a_body_in_chunks_is_read_whole() -> None:
    request = receiving({"type": "http.request", "body": b'{"a"', "more_body": True},
                        {"type": "http.request", "body": b"", "more_body": True},
                        {"type": "http.request", "body": b": 1}", "more_body": False})
    assert await read_body(request) == b'{"a": 1}'


async def test_a_client_gone_before_its_body_is_a_disconnect() -> None:
    with pytest.raises(ClientDisconnect):
        await read_body(receiving({"type": "http.disconnect"}))
