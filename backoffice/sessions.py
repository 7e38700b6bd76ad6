"""Signed session cookies and CSRF tokens for the back-office pages.

The cookie carries the same opaque token the API takes as a bearer token, HMAC-signed with a
timestamp so that a tampered or stale cookie is refused before the database is asked. The CSRF
token is derived from the session (signed double submit): pages put it in a form field or the
X-CSRF-Token header, and no server-side state is needed to check it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

SESSION_COOKIE = "hotline_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class BadSignature(ValueError):
    """The cookie was not made by this server, was altered, or has expired."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, purpose: str, message: str) -> str:
    # The purpose keeps a session signature from ever passing as a CSRF token and vice versa.
    digest = hmac.new(secret, f"{purpose}\n{message}".encode(), hashlib.sha256).digest()
    return _b64(digest)


def sign_session(secret: bytes, token: str, now: float | None = None) -> str:
    """The cookie value for a session token: ``payload.timestamp.signature``."""
    body = f"{_b64(token.encode())}.{int(time.time() if now is None else now)}"
    return f"{body}.{_mac(secret, 'session', body)}"


def read_session(secret: bytes, cookie: str, max_age_s: int, now: float | None = None) -> str:
    """The session token inside a cookie, or BadSignature."""
    try:
        payload, stamp, signature = cookie.split(".")
        issued = int(stamp)
        token = _unb64(payload).decode()
    except ValueError as exc:  # also covers binascii.Error and UnicodeDecodeError
        raise BadSignature("malformed session cookie") from exc
    if not hmac.compare_digest(signature, _mac(secret, "session", f"{payload}.{stamp}")):
        raise BadSignature("session cookie signature does not match")
    age = (time.time() if now is None else now) - issued
    if not 0 <= age <= max_age_s:
        raise BadSignature("session cookie has expired")
    return token


def csrf_token(secret: bytes, session_token: str) -> str:
    """The CSRF token that goes with a session; the same for the whole session."""
    return _mac(secret, "csrf", hashlib.sha256(session_token.encode()).hexdigest())


def csrf_ok(secret: bytes, session_token: str, method: str, submitted: str | None) -> bool:
    """Whether a request made with a session cookie may proceed."""
    if method.upper() in SAFE_METHODS:
        return True
    if not submitted:
        return False
    return hmac.compare_digest(submitted, csrf_token(secret, session_token))
