"""Seats needed for a target service level: Erlang C through pyworkforce.

Erlang C models callers who wait (none hang up) for identical seats; it is the usual first
estimate for a contact centre and errs on the side of more seats when callers do abandon.
The load of an hour is the period's calls offered in that hour of day divided by its days,
that is an average day.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from hotline.reports.figures import Report

HOUR_S = 3600.0


class BadTarget(ValueError):
    """A service-level target Erlang C cannot work with; `code` names the field."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Target:
    service_level: float  # 0-1: the share of callers answered within answer_s
    answer_s: float
    max_occupancy: float = 1.0  # 0-1: caps how busy a seat may be kept
    shrinkage: float = 0.0  # 0-1: the share of paid time a seat is not taking calls

    def __post_init__(self) -> None:
        if not 0 < self.service_level < 1:
            raise BadTarget(
                "service_level", "the service level target must be above 0 % and below 100 %"
            )
        if not 0 < self.answer_s <= HOUR_S:
            raise BadTarget("answer_s", "the answer time must be between 1 second and an hour")
        if not 0 < self.max_occupancy <= 1:
            raise BadTarget(
                "max_occupancy", "the maximum occupancy must be above 0 % and at most 100 %"
            )
        if not 0 <= self.shrinkage < 1:
            raise BadTarget("shrinkage", "shrinkage must be at least 0 % and below 100 %")


@dataclass(frozen=True, slots=True)
class Staffing:
    calls: float  # offered in the interval
    aht_s: float | None
    seats: int  # with shrinkage
    raw_seats: int  # taking calls at once
    service_level: float | None  # expected with raw_seats
    occupancy: float | None
    waiting_probability: float | None


def seats_needed(
    calls: float, aht_s: float | None, target: Target, interval_s: float = HOUR_S
) -> Staffing:
    """Erlang C for one interval; no calls (or no known handle time) need no seats."""
    if calls < 0 or not math.isfinite(calls):
        raise BadTarget("calls", "calls per interval must be a finite number, not negative")
    if calls == 0 or aht_s is None or aht_s <= 0:
        return Staffing(calls, aht_s, 0, 0, None, None, None)
    from pyworkforce.queuing import ErlangC  # heavy import, only when a report asks

    # pyworkforce takes any one time unit for aht, asa and interval: seconds here.
    erlang: Any = ErlangC(
        transactions=calls,
        aht=aht_s,
        asa=target.answer_s,
        interval=interval_s,
        shrinkage=target.shrinkage,
    )
    need = erlang.required_positions(
        service_level=target.service_level, max_occupancy=target.max_occupancy
    )
    return Staffing(
        calls=calls,
        aht_s=aht_s,
        seats=int(need["positions"]),
        raw_seats=int(need["raw_positions"]),
        service_level=float(need["service_level"]),
        occupancy=float(need["occupancy"]),
        waiting_probability=float(need["waiting_probability"]),
    )


def by_hour(report: Report, target: Target) -> list[Staffing]:
    """Seats for each hour of an average day of the report's period."""
    overall = report.total.average_handle_s
    out = []
    for tally in report.by_hour:
        aht = tally.average_handle_s if tally.average_handle_s is not None else overall
        aht = aht if tally.offered else None  # an hour nobody calls has no handle time
        out.append(seats_needed(tally.offered / report.period.days, aht, target))
    return out
