"""The pages' languages: Mandarin by default, English on request (a cookie), one catalogue.

Every string a page shows is a key here with its two translations side by side, so a string
cannot exist in one language only. Enum values (statuses, categories, actions...) are looked
up as ``status.<value>``, ``category.<value>`` and so on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fastapi import Request

from backoffice.web.catalogue import MESSAGES

LANG_COOKIE = "hotline_lang"
LANGUAGES = ("zh", "en")
DEFAULT_LANG = "zh"
LANGUAGE_NAMES: Mapping[str, str] = {"zh": "中文", "en": "English"}

Translate = Callable[..., str]


def language_of(request: Request) -> str:
    chosen = request.cookies.get(LANG_COOKIE, DEFAULT_LANG)
    return chosen if chosen in LANGUAGES else DEFAULT_LANG


def translator(lang: str) -> Translate:
    """``t(key, **args)``: the message in ``lang``, with ``{name}`` placeholders filled in."""
    column = LANGUAGES.index(lang)

    def t(key: str, **args: Any) -> str:
        entry = MESSAGES.get(key)
        if entry is None:
            # A missing key is a bug the catalogue test catches; show the key rather than fail.
            return key
        text = entry[column]
        return text.format(**args) if args else text

    return t


def has(key: str) -> bool:
    return key in MESSAGES
