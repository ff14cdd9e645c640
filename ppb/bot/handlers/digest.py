"""Rating a post of a digest in place: the digest's own buttons, the chosen one ticked."""

from __future__ import annotations

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _

from ppb.bot.handlers.feed import kept_text
from ppb.bot.keyboards.callbacks import DigestRate
from ppb.bot.outbox_sender import digest_keyboard
from ppb.core.ppb import Ppb
from ppb.core.ratings import UNRATED

router = Router(name="digest")


def chosen_in(markup: object) -> tuple[list[int], dict[int, str]]:
    """The digest's posts, in order, and the rating ticked on each, read from its buttons."""
    post_ids: list[int] = []
    chosen: dict[int, str] = {}
    for row in getattr(markup, "inline_keyboard", None) or []:
        for button in row:
            if not (button.callback_data or "").startswith(f"{DigestRate.__prefix__}:"):
                continue  # the entry's "why?" button
            data = DigestRate.unpack(button.callback_data)
            if data.post_id not in post_ids:
                post_ids.append(data.post_id)
            if button.text.endswith("✓"):
                chosen[data.post_id] = data.kind
    return post_ids, chosen


@router.callback_query(DigestRate.filter())
async def rate(query: CallbackQuery, callback_data: DigestRate, api: Ppb) -> None:
    """As a feed post's buttons: a rating made elsewhere meanwhile is kept, and said so."""
    message = query.message
    post_ids, chosen = chosen_in(getattr(message, "reply_markup", None))
    rated = await api.rate(query.from_user.id, callback_data.post_id, callback_data.kind,
                           if_rated=chosen.get(callback_data.post_id) or UNRATED)
    if rated.get("kept"):
        await query.answer(kept_text(rated["interaction_type"]))
    else:
        await query.answer(_("👍 Noted") if callback_data.kind == "like" else _("👎 Noted"))
    if message is None or not hasattr(message, "reply_markup"):
        return
    chosen[callback_data.post_id] = rated["interaction_type"]
    try:
        await message.edit_reply_markup(reply_markup=digest_keyboard(post_ids, chosen))  # type: ignore[union-attr]
    except TelegramBadRequest as error:
        if "not modified" not in error.message:
            raise
