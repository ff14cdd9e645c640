"""A Bot API call's parameters, from a query string, a JSON body, or a (multipart) form."""

from __future__ import annotations

import json
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qsl

from ppb.sandbox.model import bad_request


class Params:
    """Typed access to parameters that may arrive as JSON values or as form strings."""

    def __init__(self, values: dict[str, Any], files: dict[str, bytes] | None = None,
                 file_names: dict[str, str] | None = None) -> None:
        self.values = values
        self.files = {} if files is None else files
        self.file_names = {} if file_names is None else file_names  # each file's name, as uploaded

    def has(self, name: str) -> bool:
        return self.values.get(name) not in (None, "")

    def str(self, name: str, default: str | None = None, *, required: bool = False) -> str | None:
        value = self.values.get(name)
        if value is None or value == "":
            if required:
                raise bad_request(f"{name} is empty" if name == "text" else f"parameter \"{name}\" is required")
            return default
        return value if isinstance(value, str) else json.dumps(value)

    def int(self, name: str, default: int | None = None, *, required: bool = False) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            if required:
                raise bad_request(f"parameter \"{name}\" is required")
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def bool(self, name: str, default: bool = False) -> bool:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        return str(value).lower() in {"true", "1"}

    def json(self, name: str) -> Any:
        value = self.values.get(name)
        if isinstance(value, str):
            if not value:
                return None
            try:
                return json.loads(value)
            except ValueError:
                raise bad_request(f"can't parse {name} JSON object") from None
        return value


def parse_body(content_type: str, body: bytes, query: str) -> Params:
    """Parameters of a request in any encoding the Bot API accepts."""
    values: dict[str, Any] = dict(parse_qsl(query))
    files: dict[str, bytes] = {}
    file_names: dict[str, str] = {}
    kind = content_type.split(";")[0].strip().lower()
    if not body:
        pass
    elif kind == "application/json":
        try:
            loaded = json.loads(body)
        except ValueError:
            raise bad_request("can't parse JSON") from None
        if not isinstance(loaded, dict):
            raise bad_request("can't parse JSON")
        values.update(loaded)
    elif kind == "application/x-www-form-urlencoded":
        values.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    elif kind == "multipart/form-data":
        head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
        message = BytesParser(policy=HTTP).parsebytes(head + body)
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if not name:
                continue
            payload = part.get_payload(decode=True) or b""
            if part.get_filename():
                files[str(name)] = payload
                file_names[str(name)] = str(part.get_filename())
            else:
                values[str(name)] = payload.decode("utf-8", "replace")
    return Params(values, files, file_names)
