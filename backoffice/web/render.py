"""Rendering a page: the template, the language, the signed-in user, the form token, flashes."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from backoffice.api.state import Backoffice
from backoffice.sessions import CSRF_FIELD
from backoffice.web import WEB_DIR
from backoffice.web.flash import clear_flash, read_flash
from backoffice.web.i18n import LANGUAGE_NAMES, LANGUAGES, has, language_of, translator
from backoffice.web.security import csrf_for, keep_pre_session

TEMPLATE_DIRS = [WEB_DIR / "templates"]


@cache
def environment() -> jinja2.Environment:
    """The template environment, built on first use (nothing at import)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(d) for d in TEMPLATE_DIRS]),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["local"] = _local
    env.globals["has_text"] = has
    return env


@jinja2.pass_context
def _local(
    context: jinja2.runtime.Context, moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M"
) -> str:
    """A UTC moment as the centre's local time (Beijing time by default)."""
    if moment is None:
        return "—"
    return moment.astimezone(ZoneInfo(context["tz"])).strftime(fmt)


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    """The page ``template`` with what every page needs filled in."""
    backoffice: Backoffice = request.app.state.backoffice
    lang = language_of(request)
    full = {
        "request": request,
        "lang": lang,
        "languages": [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        "t": translator(lang),
        "tz": backoffice.settings.timezone,
        "user": getattr(request.state, "page_user", None),
        "csrf_field": CSRF_FIELD,
        "csrf": csrf_for(request, backoffice.secret_key),
        "here": _here(request),
        "flash": read_flash(request),
        **(context or {}),
    }
    body = environment().get_template(template).render(full)
    response = HTMLResponse(body, status_code=status)
    clear_flash(request, response)
    keep_pre_session(request, response)
    return response


def _here(request: Request) -> str:
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{request.url.path}{query}"


def redirect(target: str) -> RedirectResponse:
    """After a form post: 303 so the browser loads ``target`` with GET."""
    return RedirectResponse(target, status_code=303)
