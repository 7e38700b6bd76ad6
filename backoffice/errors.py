"""Refusals the service layer raises; the API turns each into one HTTP status."""

from __future__ import annotations

from hotline.errors import HotlineError


class BackofficeError(HotlineError):
    status_code = 400


class NotFound(BackofficeError):
    """No such record, or one the user may not see: both look the same from outside."""

    status_code = 404


class Forbidden(BackofficeError):
    status_code = 403


class Unauthorized(BackofficeError):
    status_code = 401


class Conflict(BackofficeError):
    """The record changed meanwhile, or its state does not allow the request."""

    status_code = 409


class Invalid(BackofficeError):
    """The request is well-formed but names something that does not fit (a missing org unit)."""

    status_code = 422


class TooManyAttempts(BackofficeError):
    status_code = 429

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class Unavailable(BackofficeError):
    """A component the request needs (Redis) is down; nothing was changed."""

    status_code = 503
