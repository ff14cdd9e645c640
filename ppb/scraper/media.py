"""Media of a message -> one of PPB's media types (photo, video, document, audio, voice, poll, text).

Telethon objects are recognised by their TL class names, so this module needs no Telethon.
"""

from __future__ import annotations

from typing import Any

from ppb.domain.interactions import MediaType

EXPORT_MEDIA_TYPES: dict[str, MediaType] = {
    "video_file": MediaType.VIDEO,
    "video_message": MediaType.VIDEO,
    "animation": MediaType.VIDEO,
    "voice_message": MediaType.VOICE,
    "audio_file": MediaType.AUDIO,
    "sticker": MediaType.PHOTO,
}


def _name(value: object) -> str:
    return type(value).__name__


def telethon_media_type(media: Any) -> MediaType:
    """A Telethon `message.media` -> media type; geo, contacts, web previews count as text."""
    if media is None:
        return MediaType.TEXT
    kind = _name(media)
    if kind == "MessageMediaPhoto":
        return MediaType.PHOTO
    if kind == "MessageMediaPoll":
        return MediaType.POLL
    if kind == "MessageMediaDocument":
        return _document_type(media)
    return MediaType.TEXT


def _document_type(media: Any) -> MediaType:
    if getattr(media, "voice", None):
        return MediaType.VOICE
    if getattr(media, "video", None) or getattr(media, "round", None):
        return MediaType.VIDEO
    document = getattr(media, "document", None)
    attributes = {_name(attribute): attribute for attribute in getattr(document, "attributes", None) or ()}
    audio = attributes.get("DocumentAttributeAudio")
    if audio is not None:
        return MediaType.VOICE if getattr(audio, "voice", None) else MediaType.AUDIO
    if "DocumentAttributeVideo" in attributes or "DocumentAttributeAnimated" in attributes:
        return MediaType.VIDEO
    if "DocumentAttributeSticker" in attributes:
        return MediaType.PHOTO
    mime = str(getattr(document, "mime_type", "") or "")
    if mime.startswith("video/"):
        return MediaType.VIDEO
    if mime.startswith("audio/"):
        return MediaType.AUDIO
    return MediaType.DOCUMENT


def export_media_type(message: dict[str, Any]) -> MediaType:
    """A Desktop export message -> media type, from its photo/file/media_type/poll fields."""
    if "poll" in message:
        return MediaType.POLL
    if "photo" in message:
        return MediaType.PHOTO
    kind = message.get("media_type")
    if isinstance(kind, str) and kind in EXPORT_MEDIA_TYPES:
        return EXPORT_MEDIA_TYPES[kind]
    if "file" in message or kind is not None:
        mime = str(message.get("mime_type") or "")
        if mime.startswith("video/"):
            return MediaType.VIDEO
        if mime.startswith("audio/"):
            return MediaType.AUDIO
        if mime.startswith("image/"):
            return MediaType.PHOTO
        return MediaType.DOCUMENT
    return MediaType.TEXT


def poll_text(question: str, answers: list[str]) -> str:
    """A poll as a post's text: the question, then one line per answer."""
    lines = [question.strip()] + [f"• {answer.strip()}" for answer in answers if answer.strip()]
    return "\n".join(line for line in lines if line)
