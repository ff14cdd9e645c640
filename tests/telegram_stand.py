"""A Telegram stand at the MTProto request level: a real `telethon.TelegramClient` with only its
network replaced.

Telethon 1.x hands every request to `client._sender.send(request)` and awaits the future it
returns; updates reach the client on `client._updates_queue`, which its MTProto sender fills.
`StandSender` takes the sender's place. Every request is serialized by Telethon
(`bytes(request)`) and read back on the stand's side (`BinaryReader(...).tgread_object()`);
every answer is a real `telethon.tl.types` object, serialized by the stand and read back
with the request's own `read_result`, as the sender does with an `rpc_result` (each side's
part of the wire is a function of its own: `client_encodes`, `server_decodes`,
`server_encodes`, `client_decodes`); a failure is
the real RPC error (`rpc_message_to_error(RpcError(420, "FLOOD_WAIT_5"), request)`); an answer
that is an `Updates` is also put on the updates queue, as the sender does. So Telethon's own
logic runs unchanged: `_call` with its entity processing and flood handling, the session's
entity cache, `iter_messages` paging, `iter_dialogs`, the update loop and its `MessageBox`
(pts, gaps, getChannelDifference) and the event builders.

What the stand knows of Telegram (`TelegramStand`): accounts and their sessions (auth keys,
login codes, two-step passwords checked by SRP as Telegram does), channels with usernames,
ids, access hashes, titles and members, and their messages with entities, media and
albums. It answers `help.getConfig`, `users.getUsers` (self), `updates.getState`,
`updates.getDifference`, `updates.getChannelDifference`, `contacts.resolveUsername`,
`channels.getChannels`, `channels.getFullChannel`, `channels.getMessages`, `channels.joinChannel`,
`messages.getHistory` (Telegram's paging: `offset_id`, `offset_date`, `add_offset`,
`limit` at most 100, `min_id`, `max_id`), `messages.getDialogs`, `auth.sendCode`,
`auth.signIn`, `account.getPassword` and `auth.checkPassword`; any other request fails the
test with `NotImplementedError` naming it.

Choices where Telegram's documentation leaves room, made the way observed clients expect:
joining a channel one is in already fails with USER_ALREADY_PARTICIPANT; a channel made
private loses its username and answers CHANNEL_PRIVATE to non-members; a deleted channel
answers CHANNEL_INVALID; a revoked session answers AUTH_KEY_UNREGISTERED (401) to anything
that needs a login.

Time: Telethon remembers a FloodWait by `time.time()` and answers a repeat of the request
early while the wait lasts, except when 3 s or less are left. A test whose scraper waits
on a fake clock should therefore use waits of at most 3 s (`FLOOD_WAIT_3`), or the
request is refused again until real time catches up.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import struct
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from telethon import TelegramClient
from telethon import password as srp
from telethon.crypto import AuthKey
from telethon.errors import rpc_message_to_error
from telethon.extensions import BinaryReader
from telethon.sessions import StringSession
from telethon.tl import TLRequest, functions, types
from telethon.tl.types import RpcError

API_ID = 611335
API_HASH = "d524b414d21f4d37f08684c1df41ac9c"
DC_ID, DC_IP, DC_PORT = 2, "149.154.167.51", 443
BASE_TIME = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PAGE_LIMIT = 100
"""The most messages `messages.getHistory` answers at once, whatever `limit` asks."""

TELEGRAM_PRIME = bytes.fromhex(
    "C71CAEB9C6B1C9048E6C522F70F13F73980D40238E3E21C14934D037563D930F48198A0AA7C14058229493D22530F4DB"
    "FA336F6E0AC925139543AED44CCE7C3720FD51F69458705AC68CD4FE6B6B13ABDC9746512969328454F18FAF8C595F64"
    "2477FE96BB2A941D5BCD1D4AC8CC49880708FA9B378E3C4F3A9060BEE67CF9A4A4A695811051907E162753B56B0F6B41"
    "0DBA74D8A84B2A14B3144E0EF1284754FD17ED950D5965B4B9DD46582DB1178D169C6BC465B0D6FF9CA3928FEF5B9AE4"
    "E418FC15E83EBEA0F87FA9FF5EED70050DED2849F47BF959D956850CE929851F0D8115F635B105EE2E4E15D04B2454BF"
    "6F4FADF034B10403119CD8E3B92FCC5B"
)
"""The 2048-bit safe prime Telegram publishes for SRP (two-step passwords), with g = 3."""

_AUTH_FREE = {
    "InvokeWithLayer", "InitConnection", "InvokeWithoutUpdates", "help.GetConfig",
    "auth.SendCode", "auth.SignIn", "account.GetPassword", "auth.CheckPassword",
}
"""Requests Telegram answers before a login."""


class StandError(Exception):
    """An RPC error the stand answers with (turned into Telethon's own error class)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message


def request_name(request: TLRequest) -> str:
    """`messages.GetHistory` for `GetHistoryRequest`: Telegram's namespace and method."""
    namespace = type(request).__module__.rsplit(".", 1)[-1]
    method = type(request).__name__.removesuffix("Request")
    return method if namespace == "functions" else f"{namespace}.{method}"


# The wire, each side's part named (bench/ingest.py tells Telegram's side from the client's by them).


def client_encodes(obj: Any) -> bytes:
    """What Telethon's sender writes for a request (`bytes(request)`)."""
    return bytes(obj)


def server_decodes(data: bytes) -> Any:
    """Telegram reading what it was sent, with Telethon's TL reader."""
    with BinaryReader(data) as reader:
        return reader.tgread_object()


def server_encodes(obj: Any) -> bytes:
    """What Telegram sends for `obj`: a TL object, or a vector of them."""
    if isinstance(obj, list):
        return struct.pack("<Ii", 0x1CB5C415, len(obj)) + b"".join(bytes(item) for item in obj)
    return bytes(obj)


def client_decodes(data: bytes, request: Any = None) -> Any:
    """What Telethon's sender reads: an answer by its request's `read_result`, or an update."""
    with BinaryReader(data) as reader:
        return request.read_result(reader) if request is not None else reader.tgread_object()


# media, as Telegram describes it -------------------------------------------------------------


def photo() -> types.MessageMediaPhoto:
    sizes = [types.PhotoSize(type="x", w=800, h=600, size=64_000)]
    return types.MessageMediaPhoto(photo=types.Photo(
        id=random.getrandbits(62), access_hash=random.getrandbits(62), file_reference=os.urandom(8),
        date=BASE_TIME, sizes=sizes, dc_id=DC_ID))


def document(*attributes: Any, mime: str = "application/pdf", **flags: Any) -> types.MessageMediaDocument:
    doc = types.Document(
        id=random.getrandbits(62), access_hash=random.getrandbits(62), file_reference=os.urandom(8),
        date=BASE_TIME, mime_type=mime, size=10_000, dc_id=DC_ID, attributes=list(attributes))
    return types.MessageMediaDocument(document=doc, **flags)


def video() -> types.MessageMediaDocument:
    return document(types.DocumentAttributeVideo(duration=3.0, w=640, h=360), mime="video/mp4", video=True)


def voice() -> types.MessageMediaDocument:
    return document(types.DocumentAttributeAudio(duration=4, voice=True), mime="audio/ogg", voice=True)


def audio() -> types.MessageMediaDocument:
    return document(types.DocumentAttributeAudio(duration=180, title="Song", performer="Band"), mime="audio/mpeg")


def poll(question: str, *answers: str) -> types.MessageMediaPoll:
    def text(value: str) -> types.TextWithEntities:
        return types.TextWithEntities(text=value, entities=[])

    return types.MessageMediaPoll(
        poll=types.Poll(
            id=random.getrandbits(62), question=text(question), hash=0,
            answers=[types.PollAnswer(text=text(answer), option=bytes([index])) for index, answer in enumerate(answers)],
        ),
        results=types.PollResults(),
    )


def marked(bare_id: int) -> int:
    """A channel's bare id as PPB and Bot API clients write it: -100…"""
    return -(10**12 + bare_id)


# the world -----------------------------------------------------------------------------------


@dataclass
class Account:
    id: int
    access_hash: int
    phone: str
    first_name: str
    password: str | None = None

    def user(self) -> types.User:
        return types.User(id=self.id, is_self=True, access_hash=self.access_hash, first_name=self.first_name,
                          phone=self.phone, status=types.UserStatusRecently())


@dataclass
class Channel:
    """A channel as Telegram holds it; `view(account)` is what that account is shown."""

    id: int
    access_hash: int
    title: str
    username: str | None
    megagroup: bool = False
    join_requests: bool = False
    date: datetime = BASE_TIME
    messages: dict[int, Any] = field(default_factory=dict)
    last_id: int = 0
    pts: int = 1
    log: list[tuple[int, int, Any]] = field(default_factory=list)
    """(pts after, pts_count, update) of every change: what getChannelDifference answers."""
    members: set[int] = field(default_factory=set)
    banned: set[int] = field(default_factory=set)
    private: bool = False
    deleted: bool = False

    @property
    def marked_id(self) -> int:
        return marked(self.id)

    def readable_by(self, account_id: int) -> bool:
        if account_id in self.banned:
            return False
        return not self.private or account_id in self.members

    def view(self, account_id: int) -> types.Channel | types.ChannelForbidden:
        if self.deleted or not self.readable_by(account_id):
            return types.ChannelForbidden(id=self.id, access_hash=self.access_hash, title=self.title,
                                          broadcast=not self.megagroup, megagroup=self.megagroup)
        return types.Channel(
            id=self.id, title=self.title, photo=types.ChatPhotoEmpty(), date=self.date,
            broadcast=not self.megagroup, megagroup=self.megagroup, username=self.username,
            access_hash=self.access_hash, left=account_id not in self.members,
            join_request=self.join_requests or None, participants_count=len(self.members) + 1000)

    def history(self) -> list[Any]:
        """The messages, newest first (as getHistory counts offsets)."""
        return [self.messages[key] for key in sorted(self.messages, reverse=True)]


class TelegramStand:
    """Telegram as far as PPB's scraper and `ppb telegram-login` reach it (see the module)."""

    def __init__(self, *, api_id: int = API_ID, login_code: str | None = None) -> None:
        self.api_id = api_id
        self.login_code_sent = login_code
        """The code every login is sent (None: a new random one each time)."""
        self.channels: dict[int, Channel] = {}
        self.accounts: dict[int, Account] = {}
        self.sessions: dict[int, int | None] = {}
        """auth key id -> the account it is logged in as (None: not logged in)."""
        self.calls: Counter[str] = Counter()
        self.history_requests: list[functions.messages.GetHistoryRequest] = []
        self.down = False
        """Connections fail (Telegram unreachable)."""
        self._failures: list[tuple[str, int, str, int]] = []
        self._codes: dict[str, tuple[str, str]] = {}
        self._password_wanted: dict[int, int] = {}
        """auth key id -> the account whose code was right and whose password is asked."""
        self._srp: dict[int, tuple[int, bytes, int, Any]] = {}
        self._last_id = random.randrange(10**9, 2 * 10**9)
        self._senders: list[StandSender] = []
        self.account_pts = 1

    def __getstate__(self) -> dict[str, Any]:
        """Picklable (a Ray actor gets its own copy): connections stay behind."""
        return {**self.__dict__, "_senders": []}

    def _new_id(self) -> int:
        self._last_id += 1
        return self._last_id

    # accounts and sessions ---------------------------------------------------------------

    def add_account(self, phone: str = "15550000000", first_name: str = "Scraper", password: str | None = None) -> Account:
        account = Account(self._new_id(), random.getrandbits(62), phone.lstrip("+"), first_name, password)
        self.accounts[account.id] = account
        return account

    def session_string(self, account: Account | None = None) -> str:
        """A `TELETHON_SESSION` already logged in as `account` (a new one by default)."""
        account = account or self.add_account()
        key = AuthKey(os.urandom(256))
        self.sessions[key.key_id] = account.id
        session = StringSession()
        session.set_dc(DC_ID, DC_IP, DC_PORT)
        session.auth_key = key
        return session.save()

    def revoke(self, session_string: str) -> None:
        """The account's owner ended this session (Settings > Devices): its key is unregistered."""
        key = StringSession(session_string).auth_key
        assert key is not None
        self.sessions.pop(key.key_id, None)

    def account_of(self, session_string: str) -> Account | None:
        key = StringSession(session_string).auth_key
        owner = self.sessions.get(key.key_id) if key is not None else None
        return self.accounts.get(owner) if owner is not None else None

    def login_code(self, phone: str) -> str:
        """The code Telegram sent to the account's other devices."""
        return self._codes[phone.lstrip("+")][1]

    # channels and posts --------------------------------------------------------------------

    def add_channel(self, username: str | None, title: str, *, bare_id: int | None = None, megagroup: bool = False,
                    join_requests: bool = False) -> Channel:
        channel_id = bare_id if bare_id is not None else self._new_id()
        channel = Channel(channel_id, random.getrandbits(62), title, username, megagroup=megagroup,
                          join_requests=join_requests)
        self.channels[channel_id] = channel
        return channel

    def post(self, channel: Channel, text: str = "", *, entities: list[Any] | None = None, media: Any = None,
             grouped_id: int | None = None, date: datetime | None = None, message_id: int | None = None,
             push: bool = True) -> types.Message:
        """A new post; members' sessions get `UpdateNewChannelMessage` (unless `push` is off,
        as when Telegram does not send an update and the client finds a gap)."""
        channel.last_id = message_id if message_id is not None else channel.last_id + 1
        message = types.Message(
            id=channel.last_id, peer_id=types.PeerChannel(channel.id),
            date=date or BASE_TIME + timedelta(minutes=channel.last_id), message=text, media=media,
            entities=entities or None, grouped_id=grouped_id, post=True, views=1, forwards=0)
        channel.messages[message.id] = message
        self._change(channel, types.UpdateNewChannelMessage(message=message, pts=0, pts_count=1), push)
        return message

    def album(self, channel: Channel, caption: str, *media: Any, date: datetime | None = None,
              push: bool = True) -> list[types.Message]:
        """An album: several messages sharing a `grouped_id`, the caption on the first."""
        grouped = random.getrandbits(62)
        return [self.post(channel, caption if index == 0 else "", media=item, grouped_id=grouped, date=date,
                          push=push) for index, item in enumerate(media)]

    def service(self, channel: Channel, action: Any = None, push: bool = True) -> types.MessageService:
        channel.last_id += 1
        message = types.MessageService(
            id=channel.last_id, peer_id=types.PeerChannel(channel.id),
            date=BASE_TIME + timedelta(minutes=channel.last_id), action=action or types.MessageActionPinMessage())
        channel.messages[message.id] = message
        self._change(channel, types.UpdateNewChannelMessage(message=message, pts=0, pts_count=1), push)
        return message

    def edit(self, channel: Channel, message_id: int, text: str, *, entities: list[Any] | None = None,
             media: Any = ..., push: bool = True) -> types.Message:
        """The channel's admin edits a post: new text, entities (and media), an `edit_date`."""
        old = channel.messages[message_id]
        message = types.Message(
            id=old.id, peer_id=old.peer_id, date=old.date, message=text, entities=entities or None,
            media=old.media if media is ... else media, grouped_id=old.grouped_id, post=True, views=old.views, forwards=old.forwards,
            edit_date=max(datetime.now(UTC), old.date + timedelta(seconds=1)))
        channel.messages[message_id] = message
        self._change(channel, types.UpdateEditChannelMessage(message=message, pts=0, pts_count=1), push)
        return message

    def delete(self, channel: Channel, *message_ids: int, push: bool = True) -> None:
        for message_id in message_ids:
            channel.messages.pop(message_id, None)
        update = types.UpdateDeleteChannelMessages(channel_id=channel.id, messages=list(message_ids), pts=0,
                                                   pts_count=len(message_ids))
        self._change(channel, update, push)

    def join(self, channel: Channel, account: Account) -> None:
        """The account is a member already (joined from another device)."""
        channel.members.add(account.id)

    def rename(self, channel: Channel, username: str | None) -> None:
        """The channel's username changes (the old one is free at once); members hear of it."""
        channel.username = username
        self._channel_changed(channel)

    def make_private(self, channel: Channel) -> None:
        """The channel becomes private: no username; only members can still read it."""
        channel.private = True
        channel.username = None
        self._channel_changed(channel)

    def ban(self, channel: Channel, account: Account) -> None:
        channel.members.discard(account.id)
        channel.banned.add(account.id)
        self._channel_changed(channel)

    def delete_channel(self, channel: Channel) -> None:
        channel.deleted = True
        channel.username = None
        self._channel_changed(channel)

    def fail_next(self, name: str, message: str, *, code: int = 420, after: int = 0) -> None:
        """The next `name` request (`messages.GetHistory`), after `after` that pass, fails with
        `code` `message`: `fail_next("messages.GetHistory", "FLOOD_WAIT_3", after=2)`."""
        self._failures.append((name, code, message, after))

    # clients ----------------------------------------------------------------------------------

    def attach(self, client: TelegramClient) -> TelegramClient:
        """Put a `StandSender` in the client's sender's place (before it connects)."""
        client._sender = StandSender(self, client)
        return client

    def client(self, session: str | StringSession | None = None, **options: Any) -> TelegramClient:
        """A real `TelegramClient` on this stand (`flood_sleep_threshold=0` as PPB builds it)."""
        options.setdefault("flood_sleep_threshold", 0)
        session = session if isinstance(session, StringSession) else StringSession(session or "")
        return self.attach(TelegramClient(session, self.api_id, API_HASH, **options))

    def clients(self, factory: Callable[[], TelegramClient]) -> StandClients:
        """A `Scraper` client factory: `factory` (PPB's `TelethonSession`) builds the client."""
        return StandClients(self, factory)

    # what happens on Telegram's side ------------------------------------------------------

    def _change(self, channel: Channel, update: Any, push: bool) -> None:
        channel.pts += update.pts_count
        update.pts = channel.pts
        channel.log.append((channel.pts, update.pts_count, update))
        if push:
            self._push(channel, update)

    def _channel_changed(self, channel: Channel) -> None:
        self._push(channel, types.UpdateChannel(channel_id=channel.id), to_banned=True)

    def _push(self, channel: Channel, update: Any, *, to_banned: bool = False) -> None:
        """To the connections of members (and, for a change of the channel itself, of those
        just banned from it)."""
        for sender in list(self._senders):
            account = sender.account_id()
            if account is None:
                continue
            if account not in channel.members and not (to_banned and account in channel.banned):
                continue
            sender.push(types.Updates(updates=[update], users=[], chats=[channel.view(account)],
                                      date=datetime.now(UTC), seq=0))

    async def answer(self, sender: StandSender, request: TLRequest) -> Any:
        name = request_name(request)
        self.calls[name] += 1
        for index, (wanted, code, message, after) in enumerate(self._failures):
            if wanted == name:
                if after:
                    self._failures[index] = (wanted, code, message, after - 1)
                    break
                del self._failures[index]
                if name == "messages.GetHistory":
                    self.history_requests.append(request)
                raise StandError(code, message)
        account_id = sender.account_id()
        if account_id is None and name not in _AUTH_FREE:
            raise StandError(401, "AUTH_KEY_UNREGISTERED")
        handler = getattr(self, "_" + name.replace(".", "_"), None)
        if handler is None:
            raise NotImplementedError(f"the Telegram stand does not answer {name}")
        return await handler(sender, request, account_id)

    async def _InvokeWithLayer(self, sender: StandSender, request: Any, account: int | None) -> Any:
        return await self.answer(sender, request.query)

    async def _InvokeWithoutUpdates(self, sender: StandSender, request: Any, account: int | None) -> Any:
        return await self.answer(sender, request.query)

    async def _InitConnection(self, sender: StandSender, request: Any, account: int | None) -> Any:
        if request.api_id != self.api_id:
            raise StandError(400, "API_ID_INVALID")
        return await self.answer(sender, request.query)

    async def _help_GetConfig(self, sender: StandSender, request: Any, account: int | None) -> Any:
        now = datetime.now(UTC).replace(microsecond=0)
        return types.Config(
            date=now, expires=now + timedelta(hours=1), test_mode=False, this_dc=DC_ID,
            dc_options=[types.DcOption(id=DC_ID, ip_address=DC_IP, port=DC_PORT)], dc_txt_domain_name="apv3.stel.com",
            chat_size_max=200, megagroup_size_max=200000, forwarded_count_max=100, online_update_period_ms=210000,
            offline_blur_timeout_ms=5000, offline_idle_timeout_ms=30000, online_cloud_timeout_ms=300000,
            notify_cloud_delay_ms=30000, notify_default_delay_ms=1500, push_chat_period_ms=60000, push_chat_limit=2,
            edit_time_limit=172800, revoke_time_limit=2147483647, revoke_pm_time_limit=2147483647,
            rating_e_decay=2419200, stickers_recent_limit=200, channels_read_media_period=604800,
            call_receive_timeout_ms=20000, call_ring_timeout_ms=90000, call_connect_timeout_ms=30000,
            call_packet_timeout_ms=10000, me_url_prefix="https://t.me/", caption_length_max=1024,
            message_length_max=4096, webfile_dc_id=4)

    async def _users_GetUsers(self, sender: StandSender, request: Any, account: int | None) -> Any:
        assert account is not None
        if not all(isinstance(item, types.InputUserSelf) for item in request.id):
            raise NotImplementedError("the Telegram stand only knows the logged-in account's own user")
        return [self.accounts[account].user() for _ in request.id]

    async def _updates_GetState(self, sender: StandSender, request: Any, account: int | None) -> Any:
        return types.updates.State(pts=self.account_pts, qts=0, date=datetime.now(UTC), seq=0, unread_count=0)

    async def _updates_GetDifference(self, sender: StandSender, request: Any, account: int | None) -> Any:
        return types.updates.DifferenceEmpty(date=datetime.now(UTC), seq=0)

    async def _updates_GetChannelDifference(self, sender: StandSender, request: Any, account: int | None) -> Any:
        assert account is not None
        channel = self._readable(request.channel, account)
        changes = [update for pts, _count, update in channel.log if pts > request.pts][: request.limit or 100]
        if not changes:
            return types.updates.ChannelDifferenceEmpty(pts=channel.pts, final=True, timeout=30)
        new = [update.message for update in changes if isinstance(update, types.UpdateNewChannelMessage)]
        other = [update for update in changes if not isinstance(update, types.UpdateNewChannelMessage)]
        final = changes[-1].pts == channel.pts
        return types.updates.ChannelDifference(pts=changes[-1].pts, new_messages=new, other_updates=other,
                                               chats=[channel.view(account)], users=[], final=final, timeout=30)

    async def _contacts_ResolveUsername(self, sender: StandSender, request: Any, account: int | None) -> Any:
        assert account is not None
        name = request.username.lower()
        if not (5 <= len(name) <= 32) or not name[0].isalpha() or not name.replace("_", "").isalnum():
            raise StandError(400, "USERNAME_INVALID")
        for channel in self.channels.values():
            if channel.username and channel.username.lower() == name and not channel.deleted:
                return types.contacts.ResolvedPeer(peer=types.PeerChannel(channel.id), chats=[channel.view(account)],
                                                   users=[])
        raise StandError(400, "USERNAME_NOT_OCCUPIED")

    async def _channels_GetChannels(self, sender: StandSender, request: Any, account: int | None) -> Any:
        assert account is not None
        chats = []
        for item in request.id:
            channel = self._channel(item)
            chats.append(channel.view(account))
        return types.messages.Chats(chats=chats)

    async def _channels_GetFullChannel(self, sender: StandSender, request: Any, account: int | None) -> Any:
        assert account is not None
        channel = self._readable(request.channel, account)
        full = types.ChannelFull(
            id=channel.id, about=f"{channel.title}: the channel's description", read_inbox_max_id=channel.last_id,
            read_outbox_max_id=0, unread_count=0, chat_photo=types.PhotoEmpty(id=0),
            notify_settings=types.PeerNotifySettings(), bot_info=[], pts=channel.pts,
            participants_count=len(channel.members) + 1000)
        return types.messages.ChatFull(full_chat=full, chats=[channel.view(account)], users=[])

    async def _channels_JoinChannel(self, sender: StandSender, request: Any, account: int | None) -> Any:
        assert account is not None
        channel = self._channel(request.channel)
        if not channel.readable_by(account):
            raise StandError(400, "CHANNEL_PRIVATE")
        if account in channel.members:
            raise StandError(400, "USER_ALREADY_PARTICIPANT")
        if channel.join_requests:
            raise StandError(400, "INVITE_REQUEST_SENT")
        channel.members.add(account)
        return types.Updates(updates=[types.UpdateChannel(channel_id=channel.id)], users=[],
                             chats=[channel.view(account)], date=datetime.now(UTC), seq=0)

    async def _messages_GetHistory(self, sender: StandSender, request: Any, account: int | None) -> Any:
        assert account is not None
        self.history_requests.append(request)
        if not isinstance(request.peer, types.InputPeerChannel):
            raise NotImplementedError("the Telegram stand keeps channels only")
        channel = self._readable(request.peer, account)
        listing = channel.history()
        if request.offset_id:
            start = next((n for n, message in enumerate(listing) if message.id < request.offset_id), len(listing))
        elif request.offset_date and request.offset_date.timestamp() > 0:
            start = next((n for n, message in enumerate(listing) if message.date < request.offset_date), len(listing))
        else:
            start = 0
        start += request.add_offset
        limit = max(0, min(request.limit, PAGE_LIMIT))
        window = listing[max(0, start): max(0, start + limit)]
        window = [m for m in window if (not request.max_id or m.id < request.max_id) and m.id > request.min_id]
        return types.messages.ChannelMessages(pts=channel.pts, count=len(listing), messages=window, topics=[],
                                              chats=[channel.view(account)], users=[])

    async def _channels_GetMessages(self, sender: StandSender, request: Any, account: int | None) -> Any:
        assert account is not None
        channel = self._readable(request.channel, account)
        found = [channel.messages.get(item.id) or types.MessageEmpty(id=item.id, peer_id=types.PeerChannel(channel.id))
                 for item in request.id]
        return types.messages.ChannelMessages(pts=channel.pts, count=len(channel.messages), messages=found, topics=[],
                                              chats=[channel.view(account)], users=[])

    async def _messages_GetDialogs(self, sender: StandSender, request: Any, account: int | None) -> Any:
        assert account is not None
        joined = [c for c in self.channels.values() if account in c.members and not c.deleted]
        joined.sort(key=lambda c: (c.history()[0].date if c.messages else c.date, c.id), reverse=True)
        if request.offset_date and request.offset_date.timestamp() > 0:
            joined = [c for c in joined if (c.history()[0].date if c.messages else c.date) < request.offset_date]
        page = joined[: max(0, request.limit)]
        dialogs, messages = [], []
        for channel in page:
            top = channel.history()[0] if channel.messages else None
            dialogs.append(types.Dialog(
                peer=types.PeerChannel(channel.id), top_message=top.id if top else 0,
                read_inbox_max_id=top.id if top else 0, read_outbox_max_id=0, unread_count=0,
                unread_mentions_count=0, unread_reactions_count=0, unread_poll_votes_count=0,
                notify_settings=types.PeerNotifySettings(), pts=channel.pts))
            if top is not None:
                messages.append(top)
        chats = [channel.view(account) for channel in page]
        if len(page) < len(joined):
            return types.messages.DialogsSlice(count=len(joined), dialogs=dialogs, messages=messages, chats=chats,
                                               users=[])
        return types.messages.Dialogs(dialogs=dialogs, messages=messages, chats=chats, users=[])

    # logging in ------------------------------------------------------------------------------

    async def _auth_SendCode(self, sender: StandSender, request: Any, account: int | None) -> Any:
        phone = request.phone_number.lstrip("+")
        if not phone.isdigit() or not 7 <= len(phone) <= 15:
            raise StandError(400, "PHONE_NUMBER_INVALID")
        if request.api_id != self.api_id or request.api_hash != API_HASH:
            raise StandError(400, "API_ID_INVALID")
        code_hash, code = os.urandom(9).hex(), self.login_code_sent or f"{random.randrange(10**4, 10**5)}"
        self._codes[phone] = (code_hash, code)
        return types.auth.SentCode(type=types.auth.SentCodeTypeApp(length=5), phone_code_hash=code_hash,
                                   next_type=types.auth.CodeTypeSms(), timeout=120)

    async def _auth_SignIn(self, sender: StandSender, request: Any, account: int | None) -> Any:
        phone = request.phone_number.lstrip("+")
        sent = self._codes.get(phone)
        if sent is None or sent[0] != request.phone_code_hash:
            raise StandError(400, "PHONE_CODE_HASH_EMPTY" if not request.phone_code_hash else "PHONE_CODE_EXPIRED")
        if request.phone_code != sent[1]:
            raise StandError(400, "PHONE_CODE_INVALID")
        found = next((a for a in self.accounts.values() if a.phone == phone), None)
        if found is None:
            raise StandError(400, "PHONE_NUMBER_UNOCCUPIED")
        del self._codes[phone]
        if found.password is not None:
            self._password_wanted[sender.key_id()] = found.id
            raise StandError(401, "SESSION_PASSWORD_NEEDED")
        return self._logged_in(sender, found)

    async def _account_GetPassword(self, sender: StandSender, request: Any, account: int | None) -> Any:
        owner = self._password_owner(sender, account)
        algo = types.PasswordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow(
            salt1=os.urandom(40), salt2=os.urandom(16), g=3, p=TELEGRAM_PRIME)
        p = int.from_bytes(TELEGRAM_PRIME, "big")
        x = int.from_bytes(srp.compute_hash(algo, owner.password or ""), "big")
        v = pow(3, x, p)
        k = int.from_bytes(srp.sha256(TELEGRAM_PRIME, srp.big_num_for_hash(3)), "big")
        b = int.from_bytes(os.urandom(256), "big")
        big_b = (k * v + pow(3, b, p)) % p
        srp_id = random.getrandbits(62)
        self._srp[srp_id] = (b, srp.big_num_for_hash(big_b), v, algo)
        return types.account.Password(
            has_password=True, current_algo=algo, srp_B=srp.big_num_for_hash(big_b), srp_id=srp_id,
            hint="the usual one", new_algo=types.PasswordKdfAlgoUnknown(),
            new_secure_algo=types.SecurePasswordKdfAlgoUnknown(), secure_random=os.urandom(32))

    async def _auth_CheckPassword(self, sender: StandSender, request: Any, account: int | None) -> Any:
        owner = self._password_owner(sender, account)
        check = request.password
        if check.srp_id not in self._srp:
            raise StandError(400, "SRP_ID_INVALID")
        b, b_bytes, v, algo = self._srp.pop(check.srp_id)
        p = int.from_bytes(TELEGRAM_PRIME, "big")
        a_bytes = srp.num_bytes_for_hash(check.A)
        u = int.from_bytes(srp.sha256(a_bytes, b_bytes), "big")
        shared = pow(int.from_bytes(a_bytes, "big") * pow(v, u, p) % p, b, p)
        key = srp.sha256(srp.big_num_for_hash(shared))
        expected = srp.sha256(
            srp.xor(srp.sha256(TELEGRAM_PRIME), srp.sha256(srp.big_num_for_hash(3))),
            srp.sha256(algo.salt1), srp.sha256(algo.salt2), a_bytes, b_bytes, key)
        if expected != check.M1:
            raise StandError(400, "PASSWORD_HASH_INVALID")
        self._password_wanted.pop(sender.key_id(), None)
        return self._logged_in(sender, owner)

    def _password_owner(self, sender: StandSender, account: int | None) -> Account:
        if account is not None:
            return self.accounts[account]
        if sender.key_id() not in self._password_wanted:
            raise StandError(401, "AUTH_KEY_UNREGISTERED")
        return self.accounts[self._password_wanted[sender.key_id()]]

    def _logged_in(self, sender: StandSender, account: Account) -> types.auth.Authorization:
        self.sessions[sender.key_id()] = account.id
        return types.auth.Authorization(user=account.user())

    # lookups ---------------------------------------------------------------------------------

    def _channel(self, peer: Any) -> Channel:
        """The channel an InputChannel/InputPeerChannel names (its access hash must match)."""
        channel = self.channels.get(getattr(peer, "channel_id", None))
        if channel is None or channel.deleted or channel.access_hash != peer.access_hash:
            raise StandError(400, "CHANNEL_INVALID")
        return channel

    def _readable(self, peer: Any, account: int) -> Channel:
        channel = self._channel(peer)
        if not channel.readable_by(account):
            raise StandError(400, "CHANNEL_PRIVATE")
        return channel


class StandSender:
    """Takes `MTProtoSender`'s place in a `TelegramClient`: connect, send, disconnect, and the
    updates queue; what goes over it is serialized as on the wire."""

    def __init__(self, stand: TelegramStand, client: TelegramClient) -> None:
        self._stand = stand
        self.auth_key: AuthKey = client.session.auth_key or AuthKey(None)
        self._updates_queue: asyncio.Queue[Any] = client._updates_queue
        self._auth_key_callback = client._auth_key_callback
        self._connected = False
        self._disconnected_future: asyncio.Future[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._connection: Any = None

    def key_id(self) -> int:
        return self.auth_key.key_id

    def account_id(self) -> int | None:
        if not self._connected or self.auth_key.key is None:
            return None
        return self._stand.sessions.get(self.key_id())

    async def connect(self, connection: Any) -> bool:
        if self._connected:
            return False
        if self._stand.down:
            raise ConnectionError("Connection to Telegram failed 5 time(s)")
        self._connection = connection
        if not self.auth_key:
            self.auth_key.key = os.urandom(256)  # the Diffie-Hellman exchange, as its outcome
            self._stand.sessions.setdefault(self.key_id(), None)
            await self._auth_key_callback(self.auth_key)
        self._connected = True
        self._disconnected_future = asyncio.get_running_loop().create_future()
        self._stand._senders.append(self)
        return True

    def is_connected(self) -> bool:
        return self._connected

    def _transport_connected(self) -> bool:
        return self._connected

    def _keepalive_ping(self, ping_id: int) -> None:
        """Pings keep a TCP connection alive; the stand has none."""

    async def disconnect(self) -> None:
        if not self._connected:
            return
        self._connected = False
        if self in self._stand._senders:
            self._stand._senders.remove(self)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._disconnected_future is not None and not self._disconnected_future.done():
            self._disconnected_future.set_result(None)

    @property
    def disconnected(self) -> asyncio.Future[None]:
        if self._disconnected_future is None:
            self._disconnected_future = asyncio.get_running_loop().create_future()
            self._disconnected_future.set_result(None)
        return asyncio.shield(self._disconnected_future)

    def send(self, request: Any, ordered: bool = False) -> asyncio.Future[Any]:
        if not self._connected:
            raise ConnectionError("Cannot send requests while disconnected")
        if isinstance(request, list):
            raise NotImplementedError("the Telegram stand does not take containers of requests")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        task = asyncio.get_running_loop().create_task(self._answer(request, future))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return future

    async def _answer(self, request: Any, future: asyncio.Future[Any]) -> None:
        await asyncio.sleep(0)  # answered later, as over a network
        try:
            sent = server_decodes(client_encodes(request))
            result = await self._stand.answer(self, sent)
            answer = client_decodes(server_encodes(result), request)
        except StandError as error:
            if not future.done():
                future.set_exception(rpc_message_to_error(RpcError(error.code, error.message), request))
            return
        except Exception as error:  # a request the stand cannot answer fails the test loudly
            if not future.done():
                future.set_exception(error)
            return
        self._store_own_updates(answer)
        if not future.done():
            future.set_result(answer)

    def _store_own_updates(self, answer: Any) -> None:
        """As `MTProtoSender` does: an `Updates` answer is processed (not dispatched) too."""
        if isinstance(answer, (types.Updates, types.UpdatesCombined, types.UpdateShort)):
            answer._self_outgoing = True
            self._updates_queue.put_nowait(answer)

    def push(self, updates: Any) -> None:
        """An update Telegram sends this connection, as it reaches the client."""
        self._updates_queue.put_nowait(client_decodes(server_encodes(updates)))


class StandClients:
    """A `Scraper` client factory: PPB's own factory builds the `TelegramClient`, the stand
    replaces its sender. Picklable, so a Ray actor can be given one (with a copy of the stand)."""

    def __init__(self, stand: TelegramStand, factory: Callable[[], TelegramClient]) -> None:
        self.stand = stand
        self.factory = factory
        self.made: list[TelegramClient] = []

    def __getstate__(self) -> dict[str, Any]:
        return {"stand": self.stand, "factory": self.factory, "made": []}

    def __call__(self) -> TelegramClient:
        client = self.stand.attach(self.factory())
        self.made.append(client)
        return client


def scraper_settings(session: str, **extra: Any) -> Any:
    """PPB's settings for a scraper on the stand's session."""
    from ppb.config import load_settings

    return load_settings(TELEGRAM_API_ID=str(API_ID), TELEGRAM_API_HASH=API_HASH, TELETHON_SESSION=session, **extra)


def scraper_clients(stand: TelegramStand, session: str) -> StandClients:
    """The client factory PPB builds from its settings (`TelethonSession`), on the stand."""
    from ppb.scraper.telethon_session import TelethonSession

    return stand.clients(TelethonSession(scraper_settings(session)))
