"""Who is signed in on a page (the session cookie), and the CSRF check every form passes.

The session cookie is the one the login page (or the API's login) sets: the bearer token,
signed. Every unsafe request must carry the CSRF token derived from it, in the form field
`csrf_token` or the X-CSRF-Token header. Before signing in there is no session, so the login
and language forms are bound to a random pre-session cookie the same way (login CSRF).
"""

from __future__ import annotations

import secrets
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request, Response

from backoffice.access import Viewer, viewer_of
from backoffice.api.deps import BackofficeDep, SessionDep
from backoffice.errors import BackofficeError, Forbidden
from backoffice.models import User
from backoffice.services import auth
from backoffice.sessions import (
    CSRF_FIELD,
    CSRF_HEADER,
    SESSION_COOKIE,
    BadSignature,
    csrf_ok,
    csrf_token,
    read_session,
    sign_session,
)

PRE_SESSION_COOKIE = "hotline_presession"
SESSION_MAX_AGE_S = int(auth.TOKEN_TTL.total_seconds())


class LoginRequired(BackofficeError):
    """No valid session on a page that needs one: the browser is sent to the login page."""

    status_code = 303

    def __init__(self, next_path: str) -> None:
        super().__init__("sign in first")
        self.next_path = next_path


def session_token(request: Request, secret: bytes) -> str | None:
    """The bearer token inside a valid session cookie, else None."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    try:
        return read_session(secret, cookie, SESSION_MAX_AGE_S)
    except BadSignature:
        return None


def _csrf_seed(request: Request, secret: bytes) -> str:
    token = session_token(request, secret)
    if token is not None:
        return token
    return f"pre:{_pre_session(request)}"


def _pre_session(request: Request) -> str:
    # Made once per request: the page's forms and the cookie set on the response must agree.
    existing = request.cookies.get(PRE_SESSION_COOKIE) or getattr(
        request.state, "pre_session", None
    )
    if existing is None:
        existing = secrets.token_urlsafe(18)
        request.state.pre_session = existing
    return str(existing)


def csrf_for(request: Request, secret: bytes) -> str:
    """The token a page puts into its forms."""
    return csrf_token(secret, _csrf_seed(request, secret))


def keep_pre_session(request: Request, response: Response) -> None:
    """Set the pre-session cookie when this request made one up for its forms."""
    made = getattr(request.state, "pre_session", None)
    if made is not None and PRE_SESSION_COOKIE not in request.cookies:
        response.set_cookie(
            PRE_SESSION_COOKIE, made, httponly=True, samesite="lax", secure=_secure(request)
        )


async def require_csrf(request: Request, backoffice: BackofficeDep) -> None:
    """Refuse an unsafe request whose CSRF token is missing or not this session's."""
    submitted = request.headers.get(CSRF_HEADER)
    if submitted is None and _is_form(request):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        submitted = value if isinstance(value, str) else None
    seed = _csrf_seed(request, backoffice.secret_key)
    if not csrf_ok(backoffice.secret_key, seed, request.method, submitted):
        raise Forbidden("the form has expired or did not come from this site (CSRF); reload it")


def _is_form(request: Request) -> bool:
    kind = request.headers.get("content-type", "")
    return kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))


Csrf = Depends(require_csrf)


def get_page_user(request: Request, session: SessionDep, backoffice: BackofficeDep) -> User:
    token = session_token(request, backoffice.secret_key)
    user = auth.user_for_token(session, token) if token else None
    if user is None:
        raise LoginRequired(_here(request))
    request.state.page_user = user  # for the page frame: the name and role in the nav
    return user


PageUser = Annotated[User, Depends(get_page_user)]


def get_page_viewer(session: SessionDep, user: PageUser) -> Viewer:
    return viewer_of(session, user)


PageViewer = Annotated[Viewer, Depends(get_page_viewer)]


def start_session(request: Request, response: Response, secret: bytes, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        sign_session(secret, token),
        max_age=SESSION_MAX_AGE_S,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _here(request: Request) -> str:
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{request.url.path}{query}"


def login_url(next_path: str) -> str:
    return f"/login?next={quote(next_path, safe='')}"


def safe_next(target: str | None, default: str = "/") -> str:
    """A local path to go back to; anything pointing off this site becomes ``default``."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target
