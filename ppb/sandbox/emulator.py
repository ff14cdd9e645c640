"""The emulator's state: chats, the update queue (long polling or webhook), injected faults.

One Emulator serves one bot token. Everything runs on one event loop (the web server's).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson

from ppb.sandbox.model import BotApiError, Chat, ChatMessage, Person, bad_request

log = logging.getLogger("ppb.sandbox")

WEBHOOK_RETRY_MAX_S = 2.0
DEFAULT_MENU_BUTTON: dict[str, Any] = {"type": "default"}


@dataclass(slots=True)
class Fault:
    """The next `count` calls of `method` fail with this error (429 carries retry_after)."""

    method: str
    error_code: int
    description: str
    retry_after: int | None
    count: int


class Emulator:
    def __init__(
        self,
        token: str,
        *,
        username: str = "ppb_sandbox_bot",
        first_name: str = "PPB",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.username = username
        self.first_name = first_name
        self.clock = clock
        self.chats: dict[int, Chat] = {}
        self.pending: list[dict[str, Any]] = []
        self.next_update_id = 1
        self.callbacks: dict[str, tuple[int, bool]] = {}
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}
        """setChatMenuButton's buttons: per private chat, and the bot's default under None."""
        self.calls: Counter[str] = Counter()
        self.faults: list[Fault] = []
        self.outage = False
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self.webhook_connections = 40
        self._arrival: asyncio.Event | None = None
        self._deliverer: asyncio.Task[None] | None = None
        self._http: aiohttp.ClientSession | None = None

    # the bot -------------------------------------------------------------------------

    def bot_user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": self.first_name, "username": self.username}

    def check_faults(self, method: str) -> None:
        """Raise the injected error for this call, if any."""
        self.calls[method] += 1
        if self.outage:
            raise BotApiError(502, "Bad Gateway")
        for fault in self.faults:
            if fault.count > 0 and fault.method.lower() == method.lower():
                fault.count -= 1
                raise BotApiError(fault.error_code, fault.description, fault.retry_after)

    def inject(self, method: str, error_code: int = 429, *, retry_after: int | None = None, count: int = 1) -> None:
        if error_code == 429:
            retry_after = 1 if retry_after is None else retry_after
            description = f"Too Many Requests: retry after {retry_after}"
        else:
            description = {500: "Internal Server Error", 502: "Bad Gateway"}.get(error_code, "Bad Request: injected")
        self.faults.append(Fault(method, error_code, description, retry_after, count))

    def clear_faults(self) -> None:
        self.faults.clear()
        self.outage = False

    def chat_for_bot(self, chat_id: Any) -> Chat:
        """The chat the bot addresses; Telegram's errors for one it cannot write to."""
        try:
            key = int(chat_id)
        except (TypeError, ValueError):
            raise bad_request("chat not found") from None
        chat = self.chats.get(key)
        if chat is None:
            if key > 0:
                raise BotApiError(403, "Forbidden: bot can't initiate conversation with a user")
            raise bad_request("chat not found")
        return chat

    def add_bot_message(self, chat: Chat, **fields: Any) -> ChatMessage:
        message = ChatMessage(chat.new_id(), True, self.clock(), **fields)
        chat.messages[message.message_id] = message
        chat.touch()
        return message

    def menu_button(self, chat_id: int | None) -> dict[str, Any]:
        """getChatMenuButton: the chat's own button, or the default one; `default` when unset."""
        return dict(self.menu_buttons.get(chat_id, DEFAULT_MENU_BUTTON))

    def shown_menu_button(self, chat_id: int) -> dict[str, Any]:
        """The button a person sees beside the composer: the chat's, else the bot's default,
        else (as Telegram) the list of the bot's commands."""
        for button in (self.menu_buttons.get(chat_id), self.menu_buttons.get(None)):
            if button is not None and button["type"] != "default":
                return dict(button)
        return {"type": "commands"}

    def message_for_bot(self, chat: Chat, message: ChatMessage) -> dict[str, Any]:
        sender = self.bot_user() if message.from_bot else chat.person.user()
        return message.for_bot(sender, chat.person.chat())

    # the person ----------------------------------------------------------------------

    def person_chat(self, user_id: int, first_name: str | None = None, username: str | None = None,
                    language_code: str | None = None) -> Chat:
        chat = self.chats.get(user_id)
        if chat is None:
            chat = self.chats[user_id] = Chat(Person(user_id, first_name or f"User {user_id}", username, language_code))
        else:
            person = chat.person
            person.first_name = first_name or person.first_name
            person.username = username or person.username
            person.language_code = language_code or person.language_code
        return chat

    def person_says(self, user_id: int, text: str, **who: str | None) -> dict[str, Any]:
        """A person sends the bot a text; returns the message id and its update id."""
        chat = self.person_chat(user_id, **who)
        message = ChatMessage(chat.new_id(), False, self.clock(), text=text)
        if text.startswith("/"):
            command = text.split()[0]
            message.entities = [{"type": "bot_command", "offset": 0, "length": len(command.encode("utf-16-le")) // 2}]
        chat.messages[message.message_id] = message
        chat.touch()
        update_id = self.push({"message": self.message_for_bot(chat, message)})
        return {"message_id": message.message_id, "update_id": update_id}

    def person_presses(self, user_id: int, message_id: int, data: str) -> dict[str, Any]:
        """A person presses an inline button; ValueError when there is no such button."""
        chat = self.chats.get(user_id)
        message = chat.messages.get(message_id) if chat else None
        if chat is None or message is None:
            raise LookupError(f"message {message_id} is not in the chat of {user_id}")
        if data not in message.callback_data():
            raise ValueError(f"message {message_id} has no button with data {data!r}")
        query_id = uuid.uuid4().hex[:16]
        self.callbacks[query_id] = (user_id, False)
        query = {
            "id": query_id,
            "from": chat.person.user(),
            "message": self.message_for_bot(chat, message),
            "chat_instance": str(user_id),
            "data": data,
        }
        return {"callback_query_id": query_id, "update_id": self.push({"callback_query": query})}

    def person_view(self, user_id: int) -> dict[str, Any]:
        chat = self.chats.get(user_id)
        menu = self.shown_menu_button(user_id)
        if menu["type"] == "commands":  # the commands in the person's language, as Telegram lists them
            language = chat.person.language_code if chat is not None else None
            menu["commands"] = self.commands.get((language or "")[:2]) or self.commands.get("", [])
        if chat is None:
            return {"user_id": user_id, "version": 0, "messages": [], "answers": [], "menu_button": menu}
        return {
            "user_id": user_id,
            "version": chat.version,
            "messages": [message.for_person() for message in chat.messages.values()],
            "answers": chat.answers[-20:],
            "menu_button": menu,
        }

    # updates -------------------------------------------------------------------------

    def push(self, body: dict[str, Any]) -> int:
        update_id = self.next_update_id
        self.next_update_id += 1
        self.pending.append({"update_id": update_id, **body})
        self._announce()
        return update_id

    def _announce(self) -> None:
        if self._arrival is not None:
            self._arrival.set()
        self._arrival = None

    async def _wait_arrival(self, timeout: float) -> None:
        if self._arrival is None:
            self._arrival = asyncio.Event()
        try:
            await asyncio.wait_for(self._arrival.wait(), timeout)
        except TimeoutError:
            return

    async def get_updates(self, offset: int | None, limit: int, timeout: float) -> list[dict[str, Any]]:
        if self.webhook_url:
            raise BotApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                   "use deleteWebhook to delete the webhook first")
        if offset:
            if offset < 0:
                self.pending = self.pending[offset:]
            else:
                self.pending = [u for u in self.pending if u["update_id"] >= offset]
        if not self.pending and timeout > 0:
            await self._wait_arrival(timeout)
        return self.pending[: max(1, min(limit, 100))]

    # webhook -------------------------------------------------------------------------

    def set_webhook(self, url: str, secret: str | None, max_connections: int, drop_pending: bool) -> None:
        if drop_pending:
            self.pending.clear()
        self.webhook_url = url or None
        self.webhook_secret = secret if url else None
        self.webhook_connections = max(1, min(max_connections, 100))
        if self.webhook_url and (self._deliverer is None or self._deliverer.done()):
            self._deliverer = asyncio.get_running_loop().create_task(self._deliver_forever())
        self._announce()

    def webhook_info(self) -> dict[str, Any]:
        return {
            "url": self.webhook_url or "",
            "has_custom_certificate": False,
            "pending_update_count": len(self.pending),
            "max_connections": self.webhook_connections,
        }

    async def _deliver_forever(self) -> None:
        """POST pending updates to the webhook: chats in parallel, each chat's in order."""
        busy: set[int] = set()
        inflight: set[int] = set()
        while self.webhook_url:
            for update in list(self.pending):
                if len(inflight) >= self.webhook_connections:
                    break
                chat_id = _chat_of(update)
                if update["update_id"] in inflight or chat_id in busy:
                    continue
                busy.add(chat_id)
                inflight.add(update["update_id"])
                asyncio.get_running_loop().create_task(self._deliver(update, chat_id, busy, inflight))
            await self._wait_arrival(1.0)

    async def _deliver(self, update: dict[str, Any], chat_id: int, busy: set[int], inflight: set[int]) -> None:
        attempt = 0
        try:
            while self.webhook_url and update in self.pending:
                if await self._post(update):
                    self.pending = [u for u in self.pending if u is not update]
                    return
                attempt += 1
                await asyncio.sleep(min(WEBHOOK_RETRY_MAX_S, 0.05 * 2**attempt))
        finally:
            busy.discard(chat_id)
            inflight.discard(update["update_id"])
            self._announce()

    async def _post(self, update: dict[str, Any]) -> bool:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60.0),
                                               connector=aiohttp.TCPConnector(limit=0))
        headers = {"Content-Type": "application/json"}
        if self.webhook_secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook_secret
        try:
            async with self._http.post(str(self.webhook_url), data=orjson.dumps(update), headers=headers) as response:
                await response.read()
                return 200 <= response.status < 300
        except (aiohttp.ClientError, TimeoutError) as error:
            log.info("webhook delivery failed: %s", type(error).__name__)
            return False

    async def close(self) -> None:
        self.webhook_url = None
        self._announce()
        if self._deliverer is not None:
            self._deliverer.cancel()
        if self._http is not None:
            await self._http.close()
            self._http = None


def _chat_of(update: dict[str, Any]) -> int:
    for key in ("message", "edited_message"):
        if key in update:
            return int(update[key]["chat"]["id"])
    if "callback_query" in update:
        return int(update["callback_query"]["from"]["id"])
    return 0
