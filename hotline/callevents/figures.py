"""Live figures for the wallboard: today's counters per queue and the state of every seat.

Counters are kept in Redis per local day and queue, bumped as the events happen (the IVR's
call journal); waiting callers and seat states are read from the ACD's own keys at the moment
asked, so the figures can never drift from what the ACD is doing.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

import redis

from acd.store import AcdStore
from hotline.callevents.keys import CallEventKeys

# The 12351 standard's target: answered within 15 s; 20 s is the common 80/20 figure.
SERVICE_LEVEL_TARGETS_S = (15, 20)
_DAY_TTL_S = 8 * 86400


@dataclass(frozen=True)
class QueueFigures:
    queue: str
    waiting: int
    longest_wait_s: float
    offered: int
    answered: int
    abandoned: int
    answered_within: Mapping[int, int]
    wait_total_s: float

    @property
    def handled(self) -> int:
        return self.answered + self.abandoned

    def service_level(self, target_s: int) -> float | None:
        """Share of callers answered within the target, of those answered or abandoned."""
        if not self.handled:
            return None
        return round(self.answered_within.get(target_s, 0) / self.handled, 4)

    @property
    def abandon_rate(self) -> float | None:
        return round(self.abandoned / self.handled, 4) if self.handled else None

    @property
    def average_wait_s(self) -> float | None:
        return round(self.wait_total_s / self.answered, 1) if self.answered else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "queue": self.queue,
            "waiting": self.waiting,
            "longest_wait_s": self.longest_wait_s,
            "offered": self.offered,
            "answered": self.answered,
            "abandoned": self.abandoned,
            "service_level": {str(t): self.service_level(t) for t in SERVICE_LEVEL_TARGETS_S},
            "abandon_rate": self.abandon_rate,
            "average_wait_s": self.average_wait_s,
        }


@dataclass(frozen=True)
class SeatFigures:
    seat: str
    role: str
    state: str
    reason: str
    registered: bool
    in_state_s: float
    call: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "seat": self.seat,
            "role": self.role,
            "state": self.state,
            "reason": self.reason,
            "registered": self.registered,
            "in_state_s": self.in_state_s,
            "call": self.call,
        }


def local_day(epoch: float, timezone: str) -> str:
    return datetime.fromtimestamp(epoch, ZoneInfo(timezone)).date().isoformat()


class LiveFigures:
    """Bumps today's counters and reads the whole board."""

    def __init__(
        self, client: redis.Redis, timezone: str, keys: CallEventKeys | None = None
    ) -> None:
        self.client = client
        self.timezone = timezone
        self.keys = keys or CallEventKeys()

    def _bump(self, queue: str, at: float, counts: Mapping[str, float]) -> None:
        day = local_day(at, self.timezone)
        key = self.keys.figures(day, queue)
        pipe = self.client.pipeline(transaction=False)
        for name, amount in counts.items():
            if isinstance(amount, int):
                pipe.hincrby(key, name, amount)
            else:
                pipe.hincrbyfloat(key, name, amount)
        pipe.expire(key, _DAY_TTL_S)
        pipe.sadd(self.keys.figure_queues(day), queue)
        pipe.expire(self.keys.figure_queues(day), _DAY_TTL_S)
        pipe.execute()

    def queued(self, queue: str, at: float) -> None:
        self._bump(queue, at, {"offered": 1})

    def answered(self, queue: str, at: float, wait_s: float) -> None:
        counts: dict[str, float] = {"answered": 1, "wait_total_s": float(wait_s)}
        for target in SERVICE_LEVEL_TARGETS_S:
            if wait_s <= target:
                counts[f"answered_{target}"] = 1
        self._bump(queue, at, counts)

    def abandoned(self, queue: str, at: float) -> None:
        self._bump(queue, at, {"abandoned": 1})

    def queues(self, store: AcdStore, now: float) -> list[QueueFigures]:
        day = local_day(now, self.timezone)
        names = cast(set[str], self.client.smembers(self.keys.figure_queues(day)))
        waiting: dict[str, list[float]] = {}
        for call in store.waiting_calls():
            waiting.setdefault(call.queue, []).append(call.enqueued_at)
        return [
            _queue_figures(q, self._counters(day, q), waiting.get(q, []), now)
            for q in sorted(names | waiting.keys())
        ]

    def _counters(self, day: str, queue: str) -> Mapping[str, str]:
        return cast(Mapping[str, str], self.client.hgetall(self.keys.figures(day, queue)))

    def seats(self, store: AcdStore, now: float) -> list[SeatFigures]:
        ids = sorted(cast(Sequence[str], store.client.hkeys(store.keys.profiles())))
        pipe = store.client.pipeline(transaction=False)
        for seat in ids:
            pipe.hgetall(store.keys.agent(seat))
        rows = cast(list[Mapping[str, str]], pipe.execute())
        return [_seat_figures(seat, row, now) for seat, row in zip(ids, rows, strict=True) if row]


def _queue_figures(
    queue: str, counters: Mapping[str, str], enqueued: list[float], now: float
) -> QueueFigures:
    def count(name: str) -> int:
        return int(float(counters.get(name, "0")))

    return QueueFigures(
        queue=queue,
        waiting=len(enqueued),
        longest_wait_s=round(max((now - t for t in enqueued), default=0.0), 1),
        offered=count("offered"),
        answered=count("answered"),
        abandoned=count("abandoned"),
        answered_within={t: count(f"answered_{t}") for t in SERVICE_LEVEL_TARGETS_S},
        wait_total_s=float(counters.get("wait_total_s", "0")),
    )


def _seat_figures(seat: str, row: Mapping[str, str], now: float) -> SeatFigures:
    since = float(row.get("state_since") or row.get("idle_since") or now)
    return SeatFigures(
        seat=seat,
        role=row.get("role", ""),
        state=row.get("state", "offline"),
        reason=row.get("reason", ""),
        registered=row.get("registered") == "1",
        in_state_s=round(max(0.0, now - since), 1),
        call=row.get("call") or None,
    )


def snapshot(figures: LiveFigures, store: AcdStore, now: float | None = None) -> dict[str, Any]:
    """The whole wallboard as JSON-ready data."""
    at = time.time() if now is None else now
    return {
        "at": at,
        "queues": [q.as_dict() for q in figures.queues(store, at)],
        "seats": [s.as_dict() for s in figures.seats(store, at)],
    }
