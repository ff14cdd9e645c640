"""A rule-based detector of sponsored posts, in Russian and English.

Each rule is a name and a test; a post is an ad when any rule fires. The rules look for
what advertisers must or habitually write, not for topics: the `#реклама`/`#ad` tags, the
`erid` token Russian law requires on ads, a "Реклама"/"Sponsored" label on a line of its
own, promo codes, and posts that are little more than a link. Precision on a labelled
sample is in docs/delivery.md.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from ppb.domain.rules import normalize

_TAG = re.compile(
    r"(?<!\w)#(?:реклама|ad|ads|advert|advertising|sponsored|sponsor|promo|промо|спонсор\w*"
    r"|партнер\w*|партнерск\w*|paidpartnership|partner)(?!\w)"
)
_ERID = re.compile(r"(?<![a-z0-9])erid\s*[:=]?\s*[a-z0-9]{6,}")
_LABEL = re.compile(
    r"^[\W_]*(?:реклама|на правах рекламы|рекламная интеграция|партнерский (?:пост|материал)|"
    r"sponsored|sponsored post|advertisement|advertising|paid partnership|paid promotion|promoted|"
    r"партнерская публикация|спонсор (?:поста|выпуска))(?:\s*[.:|,—–-].*|\s+with\s.*|[\W_]*)$",
    re.MULTILINE,
)
_TRAILING_LABEL = re.compile(r"(?:^|[.!?]\s+)(?:реклама|sponsored|advertisement|ad)\.?\s*$")
_PROMO = re.compile(r"промокод\w*|промо-код\w*|promo\s?-?code|coupon\s+code|discount\s+code")
_CODE = re.compile(r"(?i:use|with|enter|по)\s+(?i:the\s+)?(?i:code|коду)\s+[A-Z0-9]*[A-Z0-9]{3,}(?![a-z])")
"""A code said in capitals or digits ("use code READER20"), not "with code blocks"."""
_URL = re.compile(r"(?:https?://|www\.|t\.me/|@)\S+")
LINK_ONLY_LETTERS = 25
"""A post with a link and fewer letters than this around it is an ad (or a bare repost)."""
LABEL_LINE = 120
"""A label line longer than this is a sentence about ads, not a label."""


def _tag(text: str) -> bool:
    return _TAG.search(text) is not None


def _erid(text: str) -> bool:
    return _ERID.search(text) is not None


def _label(text: str) -> bool:
    labelled = any(len(match.group(0)) <= LABEL_LINE for match in _LABEL.finditer(text))
    return labelled or _TRAILING_LABEL.search(text.rstrip()) is not None


def _promo(text: str) -> bool:
    return _PROMO.search(text) is not None


def _code(raw: str) -> bool:
    return _CODE.search(raw) is not None


def _link_only(text: str) -> bool:
    if not re.search(r"https?://|www\.|t\.me/", text):
        return False
    rest = _URL.sub(" ", text)
    return sum(ch.isalpha() for ch in rest) < LINK_ONLY_LETTERS


RULES: dict[str, Callable[[str], bool]] = {
    "ad_hashtag": _tag,
    "erid": _erid,
    "ad_label": _label,
    "promo_code": _promo,
    "link_only": _link_only,
}


def ad_rules(text: str) -> list[str]:
    """The names of the rules this post trips (empty: not an ad)."""
    folded = normalize(text or "")
    found = [name for name, rule in RULES.items() if rule(folded)]
    if "promo_code" not in found and _code(unicodedata.normalize("NFKC", text or "")):
        found.insert(3, "promo_code")
    return found


def is_ad(text: str) -> bool:
    return bool(ad_rules(text))
