"""Dependencies every router uses: the database session, the signed-in user, the client."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Session

from backoffice.access import Viewer, viewer_of
from backoffice.api.state import Backoffice
from backoffice.errors import Unauthorized
from backoffice.models import User
from backoffice.services import auth

LOGIN_PATH = "/api/v1/auth/login"


def get_backoffice(request: Request) -> Backoffice:
    backoffice: Backoffice = request.app.state.backoffice
    return backoffice


BackofficeDep = Annotated[Backoffice, Depends(get_backoffice)]


def get_session(backoffice: BackofficeDep) -> Iterator[Session]:
    # Objects stay readable after commit: the response is built from what was just written.
    with Session(backoffice.engine, expire_on_commit=False) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]

_bearer = OAuth2PasswordBearer(tokenUrl=LOGIN_PATH, auto_error=False)
TokenDep = Annotated[str | None, Depends(_bearer)]


def get_current_user(session: SessionDep, token: TokenDep) -> User:
    user = auth.user_for_token(session, token) if token else None
    if user is None:
        raise Unauthorized("sign in first: a valid bearer token is required")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def get_viewer(session: SessionDep, user: CurrentUser) -> Viewer:
    return viewer_of(session, user)


CurrentViewer = Annotated[Viewer, Depends(get_viewer)]


def get_client_ip(request: Request) -> str:
    # Behind a reverse proxy, run uvicorn with --proxy-headers so this is the caller's address.
    return request.client.host if request.client else ""


ClientIp = Annotated[str, Depends(get_client_ip)]
