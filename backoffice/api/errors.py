"""Every refusal as JSON {"detail": ...} with its 4xx status; domain messages pass through."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from backoffice.domain.lifecycle import IllegalTransition, NotAllowed
from backoffice.errors import BackofficeError, TooManyAttempts, Unauthorized
from hotline.db import statement_timed_out
from hotline.logs import event

log = logging.getLogger("hotline.backoffice")


class ErrorDetail(BaseModel):
    detail: str


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class Unprocessable(BaseModel):
    """FastAPI's list of field errors, or one sentence when the request names something that
    does not fit (an org unit that does not exist, a field the action does not take)."""

    detail: str | list[FieldError]


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": model, "description": text}
    for status, model, text in (
        (401, ErrorDetail, "not signed in"),
        (403, ErrorDetail, "the role may not do this"),
        (404, ErrorDetail, "no such record, or not visible to this user"),
        (409, ErrorDetail, "the record's state does not allow it, or it changed meanwhile"),
        (422, Unprocessable, "the request is malformed or names something that does not fit"),
        (503, ErrorDetail, "the database is not answering, or the server is busy: retry"),
    )
}


def _reply(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=status, headers=headers)


async def _backoffice_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BackofficeError)
    headers: dict[str, str] = {}
    if isinstance(exc, Unauthorized):
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, TooManyAttempts):
        headers["Retry-After"] = str(int(exc.retry_after_s) + 1)
    return _reply(exc.status_code, str(exc), headers)


async def _not_allowed(_request: Request, exc: Exception) -> JSONResponse:
    return _reply(403, str(exc))


async def _illegal_transition(_request: Request, exc: Exception) -> JSONResponse:
    return _reply(409, str(exc))


# A database that is down, locked past its busy timeout, or a pool with no free connection:
# the request did nothing, so the client may retry; 503 says so where a 500 would not.
DATABASE_ERRORS: tuple[type[Exception], ...] = (OperationalError, InterfaceError, PoolTimeout)
DATABASE_DOWN = "the database is not answering: nothing was changed, try again in a moment"
DATABASE_SLOW = (
    "the database took too long for this request and it was stopped: nothing was changed; "
    "narrow the search (longer words, a filter) or try again in a moment"
)


async def _database_down(request: Request, exc: Exception) -> JSONResponse:
    first_line = (str(exc).splitlines() or [type(exc).__name__])[0]
    path = request.url.path
    if statement_timed_out(exc):
        event(log, "database.statement_timeout", level=logging.WARNING, path=path)
        return _reply(503, DATABASE_SLOW, {"Retry-After": "5"})
    event(log, "database.unavailable", level=logging.WARNING, path=path, error=first_line)
    return _reply(503, DATABASE_DOWN, {"Retry-After": "5"})


def install(app: FastAPI) -> None:
    for kind in DATABASE_ERRORS:
        app.add_exception_handler(kind, _database_down)
    app.add_exception_handler(BackofficeError, _backoffice_error)
    app.add_exception_handler(NotAllowed, _not_allowed)
    app.add_exception_handler(IllegalTransition, _illegal_transition)
