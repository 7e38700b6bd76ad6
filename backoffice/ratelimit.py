"""Login attempt limits: a sliding window of failures per (username, client address).

In memory, per process: with several web workers each counts on its own, so the effective
limit is the limit times the workers. Good enough against password guessing at this scale;
it moves to Redis with the ACD's client when the web app runs on more than one machine.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

SWEEP_AT = 10_000


@dataclass
class SlidingWindowLimiter:
    limit: int = 5
    window_s: float = 300.0
    clock: Callable[[], float] = time.monotonic
    _hits: dict[str, deque[float]] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def retry_after(self, key: str) -> float:
        """Seconds until ``key`` may try again; 0 when it may try now."""
        with self._lock:
            hits = self._recent(key)
            if len(hits) < self.limit:
                return 0.0
            return max(0.0, hits[0] + self.window_s - self.clock())

    def hit(self, key: str) -> None:
        """Count one failure for ``key``."""
        with self._lock:
            if len(self._hits) >= SWEEP_AT:
                self._sweep()
            self._recent(key)
            self._hits.setdefault(key, deque()).append(self.clock())

    def reset(self, key: str) -> None:
        """Forget ``key``'s failures, after it signed in."""
        with self._lock:
            self._hits.pop(key, None)

    def _recent(self, key: str) -> deque[float]:
        hits = self._hits.get(key)
        if hits is None:
            return deque()
        horizon = self.clock() - self.window_s
        while hits and hits[0] <= horizon:
            hits.popleft()
        if not hits:
            del self._hits[key]
        return hits

    def _sweep(self) -> None:
        # Keys come from the network: a spray of usernames must not grow memory for ever.
        for key in list(self._hits):
            self._recent(key)
