"""Signing in: passwords checked against Argon2 hashes, opaque bearer tokens, attempt limits."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import bindparam
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select

from backoffice.errors import TooManyAttempts, Unauthorized
from backoffice.models import ApiToken, OrgUnit, User, utcnow
from backoffice.passwords import burn_verify_time, verify_password
from backoffice.ratelimit import SlidingWindowLimiter
from backoffice.services.users import by_username

# A shift and some: an operator signs in once per working day.
TOKEN_TTL = timedelta(hours=12)
# Longer input is nobody's password; refusing it early keeps Argon2 from hashing megabytes on
# an attacker's behalf.
MAX_CREDENTIAL = 256


def token_hash(raw: str) -> str:
    # The token has 256 random bits, so a plain SHA-256 is enough; no salt, no slow hash.
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_token(
    session: Session, user: User, now: datetime | None = None, ttl: timedelta = TOKEN_TTL
) -> tuple[str, ApiToken]:
    """A new bearer token for ``user``; the raw token is returned once and never stored."""
    assert user.id is not None
    now = now or utcnow()
    raw = secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id, token_hash=token_hash(raw), created_at=now, expires_at=now + ttl
    )
    session.add(token)
    session.commit()
    return raw, token


def login(
    session: Session, username: str, password: str, client: str, limiter: SlidingWindowLimiter
) -> tuple[str, ApiToken]:
    """A token for the right password; TooManyAttempts after repeated failures."""
    key = f"{username.strip().lower()}|{client}"
    wait = limiter.retry_after(key)
    if wait > 0:
        raise TooManyAttempts(f"too many failed sign-ins; try again in {int(wait) + 1} s", wait)
    user = _account(session, username, password)
    if user is None or not verify_password(password, user.password_hash) or not user.active:
        limiter.hit(key)
        raise Unauthorized("wrong username or password")
    limiter.reset(key)
    return issue_token(session, user)


def _account(session: Session, username: str, password: str) -> User | None:
    plausible = len(username) <= MAX_CREDENTIAL and len(password) <= MAX_CREDENTIAL
    # PostgreSQL refuses NUL in a query parameter; such a name matches nobody anyway.
    user = (
        by_username(session, username.strip().lower())
        if plausible and "\x00" not in username
        else None
    )
    if user is None:
        burn_verify_time(password[:MAX_CREDENTIAL])
    return user


def user_for_token(session: Session, raw: str, now: datetime | None = None) -> User | None:
    """The active user a live token belongs to, else None."""
    found = signed_in(session, raw, now)
    return None if found is None else found[0]


def signed_in(
    session: Session, raw: str, now: datetime | None = None
) -> tuple[User, OrgUnit] | None:
    """The active user a live token belongs to and their org unit (one query), else None."""
    params = {"token_hash": token_hash(raw), "now": now or utcnow()}
    row = session.exec(_signed_in_query(), params=params).first()
    return None if row is None else (row[0], row[1])


@cache
def _signed_in_query() -> Select[User, OrgUnit]:
    # Built once: every request asks it, and building the statement costs more than running
    # it (SQLAlchemy then also reuses its compiled form without recomputing the cache key).
    return (
        select(User, OrgUnit)
        .join(ApiToken, col(ApiToken.user_id) == col(User.id))
        .join(OrgUnit, col(OrgUnit.id) == col(User.org_unit_id))
        .where(
            col(ApiToken.token_hash) == bindparam("token_hash"),
            col(ApiToken.revoked_at).is_(None),
            col(ApiToken.expires_at) > bindparam("now"),
            col(User.active).is_(True),
        )
    )


def revoke(session: Session, raw: str) -> None:
    token = session.exec(select(ApiToken).where(ApiToken.token_hash == token_hash(raw))).first()
    if token is not None and token.revoked_at is None:
        token.revoked_at = utcnow()
        session.commit()
