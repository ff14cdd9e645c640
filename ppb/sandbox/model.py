"""What the emulator keeps: people, their chats with the bot, and the messages in them."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any


class BotApiError(Exception):
    """An error the Bot API answers with `{"ok": false, "error_code", "description"}`."""

    def __init__(self, error_code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.error_code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(text: str) -> BotApiError:
    return BotApiError(400, f"Bad Request: {text}")


@dataclass(slots=True)
class Person:
    id: int
    first_name: str
    username: str | None = None
    language_code: str | None = None

    def user(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    def chat(self) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.username:
            chat["username"] = self.username
        return chat


@dataclass(slots=True)
class ChatMessage:
    message_id: int
    from_bot: bool
    date: float
    text: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    reply_markup: dict[str, Any] | None = None
    photo: str | None = None
    caption: str | None = None
    media_group_id: str | None = None
    edit_date: float | None = None
    document: dict[str, Any] | None = None  # {"file_id", "size", "file_name", "mime_type", "content"}: what the person downloads
    link_preview: dict[str, Any] | None = None  # the link_preview_options the bot sent

    def for_person(self) -> dict[str, Any]:
        """How the message looks in the person's chat."""
        return {
            "message_id": self.message_id,
            "from_bot": self.from_bot,
            "date": int(self.date),
            "text": self.text,
            "entities": self.entities,
            "reply_markup": self.reply_markup,
            "photo": self.photo,
            "caption": self.caption,
            "media_group_id": self.media_group_id,
            "edited": self.edit_date is not None,
            "document": self.document,
            "link_preview": self.link_preview,
        }

    def for_bot(self, sender: dict[str, Any], chat: dict[str, Any]) -> dict[str, Any]:
        """The Bot API's Message object."""
        message: dict[str, Any] = {
            "message_id": self.message_id,
            "from": sender,
            "chat": chat,
            "date": int(self.date),
        }
        if self.text is not None:
            message["text"] = self.text
            if self.entities:
                message["entities"] = self.entities
        if self.photo is not None:
            message["photo"] = [{"file_id": self.photo, "file_unique_id": self.photo[-16:], "width": 800, "height": 600}]
            if self.caption is not None:
                message["caption"] = self.caption
                if self.entities:
                    message["caption_entities"] = self.entities
        if self.document is not None:
            message["document"] = {"file_id": self.document["file_id"], "file_unique_id": self.document["file_id"][-16:],
                                   "file_size": self.document["size"], "file_name": self.document["file_name"],
                                   "mime_type": self.document["mime_type"]}
            if self.caption is not None:
                message["caption"] = self.caption
        if self.media_group_id:
            message["media_group_id"] = self.media_group_id
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            message["reply_markup"] = self.reply_markup
        if self.edit_date is not None:
            message["edit_date"] = int(self.edit_date)
        return message

    def callback_data(self) -> set[str]:
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return {button["callback_data"] for row in rows for button in row if "callback_data" in button}


@dataclass(slots=True)
class Chat:
    person: Person
    messages: dict[int, ChatMessage] = field(default_factory=dict)
    next_message_id: int = 1
    answers: list[dict[str, Any]] = field(default_factory=list)
    version: int = 0
    changed: asyncio.Event | None = None

    def new_id(self) -> int:
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id

    def touch(self) -> None:
        """Mark a change, waking anyone waiting for the chat to change."""
        self.version += 1
        if self.changed is not None:
            self.changed.set()
        self.changed = None

    async def wait_change(self, version: int, timeout: float) -> None:
        if self.version != version:
            return
        if self.changed is None:
            self.changed = asyncio.Event()
        try:
            await asyncio.wait_for(self.changed.wait(), timeout)
        except TimeoutError:
            return
