"""Load shedding: past a number of requests in flight, answer 503 at once instead of queueing.

Without a bound, a burst beyond what the server can do piles up in the thread pool; requests
whose clients gave up long ago are still served first, so the server answers nobody for as long
as the backlog lasts (seen in benchmarks/backoffice.py: after a 200 req/s step, a 25 req/s step
got no answer at all). A quick 503 with Retry-After keeps the latency of admitted requests
bounded and the server recovers as soon as the burst ends.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Receive, Scope, Send

BUSY_MESSAGE = "the back office is busy: try again in a moment"


class InFlightLimit:
    """ASGI middleware admitting at most ``limit`` HTTP requests at a time (per process).

    Long-lived streams (server-sent events) are not counted: they hold a connection for hours
    and cost nothing while idle.
    """

    def __init__(self, app: ASGIApp, limit: int, exempt_suffixes: tuple[str, ...] = ()) -> None:
        if limit < 1:
            raise ValueError(f"in-flight limit must be at least 1, got {limit}")
        self.app = app
        self.limit = limit
        self.exempt_suffixes = exempt_suffixes
        self.in_flight = 0
        self.shed = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope.get("path", "")).endswith(self.exempt_suffixes):
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limit:
            self.shed += 1
            await _busy(send)
            return
        # One event loop per process: the counter needs no lock between awaits.
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1


async def _busy(send: Send) -> None:
    body = json.dumps({"detail": BUSY_MESSAGE}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", b"1"),
    ]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": body})
