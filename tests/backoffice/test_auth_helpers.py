"""Session cookies, CSRF tokens and the sliding-window limiter, without a database."""

from __future__ import annotations

import pytest

from backoffice.ratelimit import SlidingWindowLimiter
from backoffice.sessions import BadSignature, csrf_ok, csrf_token, read_session, sign_session

pytestmark = pytest.mark.unit

KEY = b"k" * 32
NOW = 1_800_000_000.0


def test_session_cookie_round_trip() -> None:
    cookie = sign_session(KEY, "tok-en_123", now=NOW)
    assert read_session(KEY, cookie, max_age_s=60, now=NOW + 59) == "tok-en_123"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda c: c[:-1] + ("A" if c[-1] != "A" else "B"),  # signature
        lambda c: "eA" + c[2:],  # payload
        lambda c: c.replace(".", ".9", 1),  # timestamp
        lambda c: c + ".extra",
        lambda c: "not a cookie",
        lambda c: "",
    ],
)
def test_tampered_cookie_is_refused(tamper: object) -> None:
    cookie = sign_session(KEY, "token", now=NOW)
    with pytest.raises(BadSignature):
        read_session(KEY, tamper(cookie), max_age_s=60, now=NOW)  # type: ignore[operator]


def test_cookie_from_another_key_or_too_old_is_refused() -> None:
    cookie = sign_session(KEY, "token", now=NOW)
    with pytest.raises(BadSignature):
        read_session(b"x" * 32, cookie, max_age_s=60, now=NOW)
    with pytest.raises(BadSignature, match="expired"):
        read_session(KEY, cookie, max_age_s=60, now=NOW + 61)
    with pytest.raises(BadSignature, match="expired"):
        read_session(KEY, cookie, max_age_s=60, now=NOW - 5)  # issued in the future


def test_csrf_token_is_bound_to_the_session_and_needed_only_for_unsafe_methods() -> None:
    token = csrf_token(KEY, "session-a")
    assert csrf_ok(KEY, "session-a", "POST", token)
    assert not csrf_ok(KEY, "session-b", "POST", token)
    assert not csrf_ok(KEY, "session-a", "DELETE", None)
    assert not csrf_ok(KEY, "session-a", "POST", token[:-1])
    assert csrf_ok(KEY, "session-a", "GET", None)
    # A session cookie's signature must never pass as a CSRF token.
    assert not csrf_ok(KEY, "session-a", "POST", sign_session(KEY, "session-a").split(".")[2])


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_limiter_slides_and_resets() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(limit=3, window_s=10, clock=clock)
    for t in (0.0, 4.0, 8.0):
        clock.now = t
        assert limiter.retry_after("k") == 0
        limiter.hit("k")
    assert limiter.retry_after("k") == pytest.approx(2.0)  # the hit at 0 leaves at 10
    assert limiter.retry_after("other") == 0
    clock.now = 10.0
    assert limiter.retry_after("k") == 0  # one slot free again
    limiter.hit("k")
    assert limiter.retry_after("k") == pytest.approx(4.0)
    limiter.reset("k")
    assert limiter.retry_after("k") == 0


def test_limiter_forgets_idle_keys() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(limit=2, window_s=1, clock=clock)
    for i in range(50):
        limiter.hit(f"user{i}")
    clock.now = 5.0
    for i in range(50):
        limiter.retry_after(f"user{i}")
    assert not limiter._hits
