"""Signing in and out: a bearer token for API clients, a signed session cookie for pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm

from backoffice.api.deps import BackofficeDep, ClientIp, CurrentUser, SessionDep, TokenDep
from backoffice.models import TokenPublic
from backoffice.services import auth
from backoffice.sessions import SESSION_COOKIE, sign_session

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/login", response_model=TokenPublic, responses={429: {"description": "slow down"}})
def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    response: Response,
    session: SessionDep,
    backoffice: BackofficeDep,
    client: ClientIp,
) -> TokenPublic:
    """OAuth2 password flow: form fields `username` and `password`."""
    limiter = backoffice.login_limiter
    raw, token = auth.login(session, form.username, form.password, client, limiter)
    response.set_cookie(
        SESSION_COOKIE,
        sign_session(backoffice.secret_key, raw),
        max_age=int(auth.TOKEN_TTL.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return TokenPublic(access_token=raw, expires_at=token.expires_at)


@router.post("/logout", status_code=204)
def logout(session: SessionDep, user: CurrentUser, token: TokenDep, response: Response) -> None:
    """Revoke the token this request came with and drop the session cookie."""
    if token:
        auth.revoke(session, token)
    response.delete_cookie(SESSION_COOKIE)
