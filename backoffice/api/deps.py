"""Dependencies every router uses: the database session, the signed-in user, the client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.security import OAuth2PasswordBearer
from pydantic_core import to_json
from sqlmodel import Session

from backoffice.access import Viewer, viewer_from
from backoffice.api.state import Backoffice
from backoffice.errors import Unauthorized
from backoffice.models import User
from backoffice.services import auth

LOGIN_PATH = "/api/v1/auth/login"
T = TypeVar("T")


# Dependencies that do no I/O are `async def`: FastAPI runs a plain `def` in the thread pool,
# and each such hop costs more CPU than a short query (about 0.2 ms on a 2-core VM).


async def get_backoffice(request: Request) -> Backoffice:
    backoffice: Backoffice = request.app.state.backoffice
    return backoffice


BackofficeDep = Annotated[Backoffice, Depends(get_backoffice)]


async def get_session(backoffice: BackofficeDep) -> AsyncIterator[Session]:
    # Objects stay readable after commit: the response is built from what was just written.
    # `async`: creating a session does no I/O (it connects at its first query), and a `def`
    # generator costs two thread-pool hops, one to enter and one to exit. Closing it hands
    # the connection back to the pool (a rollback of nothing, well under a hop's cost);
    # the in-flight limit (backoffice/overload.py) keeps requests fewer than the pool's
    # connections plus overflow.
    session = Session(backoffice.engine, expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]


_bearer = OAuth2PasswordBearer(tokenUrl=LOGIN_PATH, auto_error=False)
TokenDep = Annotated[str | None, Depends(_bearer)]


def get_signed_in(session: SessionDep, token: TokenDep) -> Viewer:
    """The token's user and their place in the network, in one query."""
    return sign_in(session, token)[1]


def sign_in(session: Session, token: str | None) -> tuple[User, Viewer]:
    found = auth.signed_in(session, token) if token else None
    if found is None:
        raise Unauthorized("sign in first: a valid bearer token is required")
    user, unit = found
    # The session's identity map holds weak references: keeping the user's unit here makes
    # the services' `viewer_of` find it there instead of asking the database again.
    session.info["signed_in"] = (user, unit)
    return user, viewer_from(user, unit)


async def signed_in_read(
    backoffice: Backoffice, token: str | None, work: Callable[[Session, User, Viewer], T]
) -> T:
    """Sign in and do ``work`` in one trip to the thread pool, for the busiest reads.

    Through dependencies a read costs three trips (`get_signed_in`, a `def` endpoint, and
    the validation of its answer) at about 0.2 ms of a core each; an `async` endpoint that
    calls this makes one. The session is the thread's own, outside any transaction
    (`Backoffice.reader`): opening and closing it there spares the event loop a dependency's
    exit stack, and on PostgreSQL the read sends no BEGIN and no ROLLBACK.
    """

    def run() -> T:
        with Session(backoffice.reader(), expire_on_commit=False) as session:
            user, viewer = sign_in(session, token)
            return work(session, user, viewer)

    return await run_in_threadpool(run)


def json_answer(content: Any) -> Response:
    """``content`` (dicts, lists, models, datetimes, enums) as JSON, encoded once in Rust.

    For the busiest reads, whose content is built to the route's response model: FastAPI
    would validate it into that model again (a SQLModel object per list item) and encode it
    in Python, about 0.2 ms a page. The OpenAPI schema still comes from `response_model`.
    """
    return Response(to_json(content), media_type="application/json")


SignedIn = Annotated[Viewer, Depends(get_signed_in)]


async def get_current_user(session: SessionDep, _viewer: SignedIn) -> User:
    user: User = session.info["signed_in"][0]
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


async def get_viewer(viewer: SignedIn) -> Viewer:
    return viewer


CurrentViewer = Annotated[Viewer, Depends(get_viewer)]


async def get_client_ip(request: Request) -> str:
    # Behind a reverse proxy, run uvicorn with --proxy-headers so this is the caller's address.
    return request.client.host if request.client else ""


ClientIp = Annotated[str, Depends(get_client_ip)]
