"""Signing in and out on the pages, and the language switch."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from backoffice.api.deps import BackofficeDep, ClientIp, SessionDep
from backoffice.errors import TooManyAttempts, Unauthorized
from backoffice.services import auth
from backoffice.sessions import SESSION_COOKIE
from backoffice.web.flash import flash
from backoffice.web.i18n import LANG_COOKIE, LANGUAGES
from backoffice.web.render import redirect, render
from backoffice.web.security import Csrf, PageUser, safe_next, session_token, start_session

router = APIRouter()
HOME = "/orders"
MAX_FIELD = 256  # longer is nobody's username or password (auth refuses it too)
ONE_YEAR_S = 365 * 24 * 3600


@router.get("/")
def home() -> RedirectResponse:
    return redirect(HOME)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: Annotated[str | None, Query()] = None) -> Response:
    return render(request, "login.html", {"next": safe_next(next, HOME), "error": None})


@router.post("/login", dependencies=[Csrf])
def login(
    request: Request,
    session: SessionDep,
    backoffice: BackofficeDep,
    client: ClientIp,
    username: Annotated[str, Form(max_length=MAX_FIELD)] = "",
    password: Annotated[str, Form(max_length=MAX_FIELD)] = "",
    next: Annotated[str, Form(max_length=2000)] = HOME,
) -> Response:
    target = safe_next(next, HOME)
    if not username.strip() or not password:
        return _login_again(request, target, username, "login.missing", {}, 422)
    try:
        raw, _token = auth.login(session, username, password, client, backoffice.login_limiter)
    except TooManyAttempts as exc:
        wait = {"seconds": int(exc.retry_after_s) + 1}
        response = _login_again(request, target, username, "login.too_many", wait, 429)
        response.headers["Retry-After"] = str(wait["seconds"])
        return response
    except Unauthorized:
        return _login_again(request, target, username, "login.failed", {}, 401)
    response = redirect(target)
    start_session(request, response, backoffice.secret_key, raw)
    flash(response, "flash.signed_in")
    return response


def _login_again(
    request: Request, target: str, username: str, error: str, args: dict[str, int], status: int
) -> Response:
    context = {"next": target, "username": username, "error": error, "error_args": args}
    return render(request, "login.html", context, status=status)


@router.post("/logout", dependencies=[Csrf])
def logout(
    request: Request, session: SessionDep, backoffice: BackofficeDep, _user: PageUser
) -> Response:
    token = session_token(request, backoffice.secret_key)
    if token is not None:
        auth.revoke(session, token)
    response = redirect("/login")
    response.delete_cookie(SESSION_COOKIE)
    flash(response, "flash.signed_out")
    return response


@router.post("/lang", dependencies=[Csrf])
def switch_language(
    lang: Annotated[str, Form(max_length=8)],
    next: Annotated[str, Form(max_length=2000)] = HOME,
) -> Response:
    response = redirect(safe_next(next, HOME))
    if lang in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=ONE_YEAR_S, samesite="lax")
    return response
