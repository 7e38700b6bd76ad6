"""Refusals on pages as HTML pages; the API's paths keep their JSON answers.

The API installs JSON handlers for the service layer's errors. This wraps them: a request
under /api/ is answered as before, any other gets a page in the user's language (a handler
asking for another county's order sees "not found", exactly as the API answers 404).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from backoffice.api.errors import DATABASE_ERRORS
from backoffice.domain.lifecycle import IllegalTransition, NotAllowed
from backoffice.errors import BackofficeError, Forbidden, TooManyAttempts
from backoffice.web.render import redirect, render
from backoffice.web.security import LoginRequired, login_url
from hotline.db import statement_timed_out

Handler = Callable[[Request, Exception], Awaitable[Response]]
API_PREFIXES = ("/api/", "/openapi.json", "/docs", "/redoc")


def _status(exc: Exception) -> int:
    if isinstance(exc, BackofficeError):
        return exc.status_code
    if isinstance(exc, HTTPException):
        return exc.status_code
    if isinstance(exc, NotAllowed):
        return 403
    if isinstance(exc, IllegalTransition):
        return 409
    if isinstance(exc, DATABASE_ERRORS):
        return 503
    return 422  # RequestValidationError


def error_page(request: Request, exc: Exception) -> Response:
    """The error page for ``exc``; the message is the service's own, under a translated title."""
    if isinstance(exc, LoginRequired):
        return redirect(login_url(exc.next_path))
    status = _status(exc)
    context = {"status": status, "message": _message(exc, status)}
    response = render(request, "error.html", context, status=status)
    if isinstance(exc, TooManyAttempts):
        response.headers["Retry-After"] = str(int(exc.retry_after_s) + 1)
    if status == 503:
        response.headers["Retry-After"] = "5"
    return response


def _message(exc: Exception, status: int) -> str:
    if status == 404:
        return ""  # the page says "not found or not yours" in the user's language
    if isinstance(exc, Forbidden) and "CSRF" in str(exc):
        return "csrf"
    if isinstance(exc, HTTPException):
        return str(exc.detail)
    if isinstance(exc, DATABASE_ERRORS):
        # The driver's own text may name hosts and SQL.
        return "db_slow" if statement_timed_out(exc) else "db_down"
    if isinstance(exc, RequestValidationError):
        return "; ".join(_field_error(e) for e in exc.errors())
    return str(exc)


def _field_error(error: object) -> str:
    if isinstance(error, dict):
        where = ".".join(str(part) for part in error.get("loc", ())[1:])
        return f"{where}: {error.get('msg', '')}"
    return str(error)


def _for_pages(api_handler: Handler | None) -> Handler:
    async def handle(request: Request, exc: Exception) -> Response:
        if request.url.path.startswith(API_PREFIXES) and api_handler is not None:
            return await api_handler(request, exc)
        if request.url.path.startswith(API_PREFIXES):
            raise exc
        return error_page(request, exc)

    return handle


def install(app: FastAPI) -> None:
    for kind in (
        BackofficeError,
        NotAllowed,
        IllegalTransition,
        HTTPException,
        RequestValidationError,
        *DATABASE_ERRORS,
    ):
        existing = app.exception_handlers.get(kind)
        app.add_exception_handler(kind, _for_pages(existing))  # type: ignore[arg-type]
