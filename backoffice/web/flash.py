"""One-shot messages shown on the next page after a redirect (signed in, dispatched...).

The cookie holds only catalogue keys and a kind, never free text, so a forged cookie can at
most show one of the pages' own messages.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from fastapi import Request, Response

from backoffice.web.i18n import has

FLASH_COOKIE = "hotline_flash"
KINDS = ("ok", "error")


@dataclass(frozen=True)
class Flash:
    key: str
    kind: str = "ok"


def flash(response: Response, key: str, kind: str = "ok") -> None:
    """Show the message ``key`` on the next page this browser loads."""
    response.set_cookie(
        FLASH_COOKIE, json.dumps([key, kind]), max_age=60, httponly=True, samesite="lax"
    )


def read_flash(request: Request) -> Flash | None:
    """The pending message, if any (`clear_flash` removes it once shown)."""
    raw = request.cookies.get(FLASH_COOKIE)
    if raw is None:
        return None
    try:
        key, kind = json.loads(raw)
    except (ValueError, TypeError):
        return None
    if not isinstance(key, str) or not has(key) or kind not in KINDS:
        return None
    return Flash(key, kind)


def clear_flash(request: Request, response: Response) -> None:
    if FLASH_COOKIE in request.cookies:
        response.delete_cookie(FLASH_COOKIE)
