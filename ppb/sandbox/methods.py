"""The Bot API methods the emulator answers, with Telegram's rules and error texts."""

from __future__ import annotations

import mimetypes
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from ppb.sandbox.emulator import Emulator
from ppb.sandbox.html_text import ParseError, parse_html
from ppb.sandbox.model import BotApiError, Chat, ChatMessage, bad_request
from ppb.sandbox.params import Params

DELETE_WINDOW_S = 48 * 3600
MAX_TEXT = 4096
MAX_CAPTION = 1024
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)

Method = Callable[[Emulator, Params], Awaitable[Any]]


def _formatted(params: Params, field: str, limit: int, *, required: bool) -> tuple[str | None, list[dict[str, Any]]]:
    text = params.str(field, required=required)
    if text is None:
        return None, []
    mode = (params.str("parse_mode") or "").lower()
    entities = params.json("entities" if field == "text" else "caption_entities") or []
    if mode == "html":
        try:
            text, entities = parse_html(text)
        except ParseError as error:
            raise bad_request(f"can't parse entities: {error}") from None
    elif mode:
        entities = []  # Markdown is shown as sent: PPB uses HTML
    if not text.strip():
        raise bad_request(f"{'message text' if field == 'text' else 'caption'} is empty")
    if len(text) > limit:
        raise bad_request("message is too long" if field == "text" else "message caption is too long")
    return text, entities


def _markup(params: Params) -> dict[str, Any] | None:
    markup = params.json("reply_markup")
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    for row in markup.get("inline_keyboard") or []:
        for button in row:
            if not isinstance(button, dict) or not button.get("text"):
                raise bad_request("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
            data = button.get("callback_data")
            if data is not None and not (1 <= len(str(data).encode()) <= 64):
                raise bad_request("BUTTON_DATA_INVALID")
            web_app = button.get("web_app")
            if web_app is not None and not str(web_app.get("url", "")).startswith(("https://", "http://")):
                raise bad_request("BUTTON_URL_INVALID")
    return markup


def _message(emulator: Emulator, params: Params) -> tuple[Chat, ChatMessage]:
    chat = emulator.chat_for_bot(params.values.get("chat_id"))
    if params.has("inline_message_id"):
        raise bad_request("inline messages are not supported by the sandbox")
    message_id = params.int("message_id", required=True)
    message = chat.messages.get(message_id or 0)
    if message is None:
        raise bad_request("message to edit not found")
    if not message.from_bot:
        raise bad_request("message can't be edited")
    return chat, message


async def get_me(emulator: Emulator, params: Params) -> Any:
    return {**emulator.bot_user(), "can_join_groups": False, "can_read_all_group_messages": False,
            "supports_inline_queries": False}


async def get_updates(emulator: Emulator, params: Params) -> Any:
    timeout = min(float(params.int("timeout", 0) or 0), 50.0)
    return await emulator.get_updates(params.int("offset"), params.int("limit", 100) or 100, timeout)


async def set_webhook(emulator: Emulator, params: Params) -> Any:
    url = params.str("url", "") or ""
    if url and not url.startswith(("http://", "https://")):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    emulator.set_webhook(url, params.str("secret_token"), params.int("max_connections", 40) or 40,
                         params.bool("drop_pending_updates"))
    return True


async def delete_webhook(emulator: Emulator, params: Params) -> Any:
    emulator.set_webhook("", None, 40, params.bool("drop_pending_updates"))
    return True


async def get_webhook_info(emulator: Emulator, params: Params) -> Any:
    return emulator.webhook_info()


async def send_message(emulator: Emulator, params: Params) -> Any:
    chat = emulator.chat_for_bot(params.values.get("chat_id"))
    text, entities = _formatted(params, "text", MAX_TEXT, required=True)
    preview = params.json("link_preview_options") if params.has("link_preview_options") else None
    message = emulator.add_bot_message(chat, text=text, entities=entities, reply_markup=_markup(params),
                                       link_preview=preview if isinstance(preview, dict) else None)
    return emulator.message_for_bot(chat, message)


def _photo(params: Params, value: Any) -> str:
    if isinstance(value, str) and value.startswith("attach://"):
        name = value.removeprefix("attach://")
        if name not in params.files:
            raise bad_request(f"file {name!r} is not attached")
        return f"sandbox-photo-{uuid.uuid4().hex}"
    if value in (None, "") and "photo" in params.files:
        return f"sandbox-photo-{uuid.uuid4().hex}"
    if not isinstance(value, str) or not value:
        raise bad_request("there is no photo in the request")
    return value


async def send_photo(emulator: Emulator, params: Params) -> Any:
    chat = emulator.chat_for_bot(params.values.get("chat_id"))
    photo = _photo(params, params.values.get("photo"))
    caption, entities = _formatted(params, "caption", MAX_CAPTION, required=False)
    message = emulator.add_bot_message(chat, photo=photo, caption=caption, entities=entities, reply_markup=_markup(params))
    return emulator.message_for_bot(chat, message)


async def send_document(emulator: Emulator, params: Params) -> Any:
    """A file the person can open: its bytes are kept (as text when they are UTF-8)."""
    chat = emulator.chat_for_bot(params.values.get("chat_id"))
    value = params.values.get("document")
    name = value.removeprefix("attach://") if isinstance(value, str) and value.startswith("attach://") else "document"
    payload = params.files.get(name)
    if payload is None:
        raise bad_request("there is no document in the request")
    caption, entities = _formatted(params, "caption", MAX_CAPTION, required=False)
    file_name = params.file_names.get(name) or "document"
    document = {"file_id": f"sandbox-document-{uuid.uuid4().hex}", "size": len(payload),
                "file_name": file_name, "mime_type": mimetypes.guess_type(file_name)[0] or "application/octet-stream",
                "content": payload.decode("utf-8", "replace")}
    message = emulator.add_bot_message(chat, document=document, caption=caption, entities=entities,
                                       reply_markup=_markup(params))
    return emulator.message_for_bot(chat, message)


async def send_media_group(emulator: Emulator, params: Params) -> Any:
    chat = emulator.chat_for_bot(params.values.get("chat_id"))
    media = params.json("media")
    if not isinstance(media, list) or not 2 <= len(media) <= 10:
        raise bad_request("wrong number of media in the group: 2 to 10 are allowed")
    group = uuid.uuid4().hex[:12]
    sent = []
    for item in media:
        if not isinstance(item, dict) or item.get("type") not in {"photo", "video", "document", "audio"}:
            raise bad_request("can't parse InputMedia: media type is not supported")
        caption = item.get("caption")
        entities: list[dict[str, Any]] = []
        if caption and str(item.get("parse_mode", "")).lower() == "html":
            caption, entities = parse_html(caption)
        message = emulator.add_bot_message(chat, photo=_photo(params, item.get("media")), caption=caption,
                                           entities=entities, media_group_id=group)
        sent.append(emulator.message_for_bot(chat, message))
    return sent


async def edit_message_text(emulator: Emulator, params: Params) -> Any:
    chat, message = _message(emulator, params)
    text, entities = _formatted(params, "text", MAX_TEXT, required=True)
    markup = _markup(params)
    if message.text is None:
        raise bad_request("there is no text in the message to edit")
    if (text, entities, markup) == (message.text, message.entities, message.reply_markup):
        raise bad_request(NOT_MODIFIED)
    message.text, message.entities, message.reply_markup = text, entities, markup
    message.edit_date = emulator.clock()
    chat.touch()
    return emulator.message_for_bot(chat, message)


async def edit_message_caption(emulator: Emulator, params: Params) -> Any:
    chat, message = _message(emulator, params)
    caption, entities = _formatted(params, "caption", MAX_CAPTION, required=False)
    markup = _markup(params)
    if message.photo is None:
        raise bad_request("there is no caption in the message to edit")
    if (caption, entities, markup) == (message.caption, message.entities, message.reply_markup):
        raise bad_request(NOT_MODIFIED)
    message.caption, message.entities, message.reply_markup = caption, entities, markup
    message.edit_date = emulator.clock()
    chat.touch()
    return emulator.message_for_bot(chat, message)


async def edit_message_reply_markup(emulator: Emulator, params: Params) -> Any:
    chat, message = _message(emulator, params)
    markup = _markup(params)
    if markup == message.reply_markup or (not markup and not message.reply_markup):
        raise bad_request(NOT_MODIFIED)
    message.reply_markup = markup
    message.edit_date = emulator.clock()
    chat.touch()
    return emulator.message_for_bot(chat, message)


def _delete(emulator: Emulator, chat: Chat, message_id: int) -> None:
    message = chat.messages.get(message_id)
    if message is None:
        raise bad_request("message to delete not found")
    if emulator.clock() - message.date >= DELETE_WINDOW_S:
        raise bad_request("message can't be deleted for everyone")
    del chat.messages[message_id]
    chat.touch()


async def delete_message(emulator: Emulator, params: Params) -> Any:
    chat = emulator.chat_for_bot(params.values.get("chat_id"))
    _delete(emulator, chat, params.int("message_id", required=True) or 0)
    return True


async def delete_messages(emulator: Emulator, params: Params) -> Any:
    chat = emulator.chat_for_bot(params.values.get("chat_id"))
    ids = params.json("message_ids")
    if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
        raise bad_request("message_ids must hold 1 to 100 identifiers")
    for message_id in ids:
        try:
            _delete(emulator, chat, int(message_id))
        except BotApiError:
            continue  # Telegram skips what it cannot delete
    return True


async def answer_callback_query(emulator: Emulator, params: Params) -> Any:
    query_id = params.str("callback_query_id", required=True) or ""
    known = emulator.callbacks.get(query_id)
    if known is None or known[1]:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    user_id, _ = known
    emulator.callbacks[query_id] = (user_id, True)
    chat = emulator.chats[user_id]
    chat.answers.append({"callback_query_id": query_id, "text": params.str("text"),
                         "show_alert": params.bool("show_alert"), "url": params.str("url")})
    chat.touch()
    return True


async def set_my_commands(emulator: Emulator, params: Params) -> Any:
    commands = params.json("commands")
    if not isinstance(commands, list) or not all(isinstance(c, dict) and c.get("command") for c in commands):
        raise bad_request("can't parse commands JSON object")
    emulator.commands[params.str("language_code", "") or ""] = commands
    return True


async def get_my_commands(emulator: Emulator, params: Params) -> Any:
    return emulator.commands.get(params.str("language_code", "") or "", [])


async def delete_my_commands(emulator: Emulator, params: Params) -> Any:
    emulator.commands.pop(params.str("language_code", "") or "", None)
    return True


MENU_BUTTON_TYPES = {"default", "commands", "web_app"}


def _menu_button(params: Params) -> dict[str, Any]:
    """A MenuButton as Telegram checks it; none given is `default`."""
    button = params.json("menu_button")
    if button is None:
        return {"type": "default"}
    if not isinstance(button, dict):
        raise bad_request("can't parse menu button: MenuButton must be an Object")
    kind = button.get("type")
    if kind not in MENU_BUTTON_TYPES:
        raise bad_request("can't parse menu button: unsupported menu button type specified")
    if kind != "web_app":
        return {"type": kind}
    text, web_app = button.get("text"), button.get("web_app")
    if not isinstance(text, str) or not text.strip():
        raise bad_request("can't parse menu button: Field \"text\" must be of type String")
    url = web_app.get("url") if isinstance(web_app, dict) else None
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise bad_request("BUTTON_URL_INVALID")
    return {"type": "web_app", "text": text, "web_app": {"url": url}}


def _menu_chat(emulator: Emulator, params: Params) -> int | None:
    """The private chat a menu button call names; None for the bot's default button."""
    if not params.has("chat_id"):
        return None
    return emulator.chat_for_bot(params.values.get("chat_id")).person.id


async def set_chat_menu_button(emulator: Emulator, params: Params) -> Any:
    chat_id = _menu_chat(emulator, params)
    emulator.menu_buttons[chat_id] = _menu_button(params)
    if chat_id is not None:
        emulator.chats[chat_id].touch()
    else:
        for chat in emulator.chats.values():
            chat.touch()
    return True


async def get_chat_menu_button(emulator: Emulator, params: Params) -> Any:
    return emulator.menu_button(_menu_chat(emulator, params))


async def accepted(emulator: Emulator, params: Params) -> Any:
    """Calls that change nothing a person sees in the sandbox (chat actions, descriptions)."""
    return True


METHODS: dict[str, Method] = {
    "getme": get_me,
    "getupdates": get_updates,
    "setwebhook": set_webhook,
    "deletewebhook": delete_webhook,
    "getwebhookinfo": get_webhook_info,
    "sendmessage": send_message,
    "sendphoto": send_photo,
    "sendmediagroup": send_media_group,
    "senddocument": send_document,
    "editmessagetext": edit_message_text,
    "editmessagecaption": edit_message_caption,
    "editmessagereplymarkup": edit_message_reply_markup,
    "deletemessage": delete_message,
    "deletemessages": delete_messages,
    "answercallbackquery": answer_callback_query,
    "setmycommands": set_my_commands,
    "getmycommands": get_my_commands,
    "deletemycommands": delete_my_commands,
    "sendchataction": accepted,
    "setchatmenubutton": set_chat_menu_button,
    "getchatmenubutton": get_chat_menu_button,
    "setmydescription": accepted,
    "setmyshortdescription": accepted,
    "close": accepted,
    "logout": accepted,
}


async def call(emulator: Emulator, method: str, params: Params) -> Any:
    """Run one Bot API method; BotApiError for anything Telegram would refuse."""
    handler = METHODS.get(method.lower())
    if handler is None:
        raise BotApiError(404, "Not Found: method not found")
    emulator.check_faults(method)
    return await handler(emulator, params)
