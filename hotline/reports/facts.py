"""One finished call as the reports see it, read from its `ended` event's data.

The source is the `ended` payload (see `hotline.callevents.model.CallFacts.as_data`), not the
IVR's `call_record` row: only the payload carries the queue, the seat, the wait and talk
seconds and whether the caller was answered or gave up.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

MAX_RANGE_DAYS = 366
MAX_NAME = 64


class BadFacts(ValueError):
    """An `ended` payload the reports cannot count (missing or malformed fields)."""


class BadRange(ValueError):
    """A report period that is not a range of days the reports can cover; `code` names the
    problem for a page to word in its own language."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class CallFact:
    call_id: str
    started_at: datetime  # timezone-aware
    queue: str | None  # None: the call never reached a queue (IVR only)
    agent: str | None  # the seat that answered
    answered: bool
    abandoned: bool
    wait_s: float | None
    talk_s: float | None

    @property
    def offered(self) -> bool:
        return self.queue is not None


def from_ended(call_id: str, data: Mapping[str, Any]) -> CallFact:
    """The facts of an `ended` event; raises BadFacts rather than guess."""
    if not call_id or len(call_id) > 128:
        raise BadFacts("a call needs an id of at most 128 characters")
    answered = _flag(data, "answered")
    fact = CallFact(
        call_id=call_id,
        started_at=_moment(data.get("started_at")),
        queue=_name(data, "queue"),
        agent=_name(data, "agent") if answered else None,
        answered=answered,
        abandoned=_flag(data, "abandoned") and not answered,
        wait_s=_seconds(data, "wait_s"),
        talk_s=_seconds(data, "talk_s") if answered else None,
    )
    if fact.answered and fact.queue is None:
        raise BadFacts("an answered call must name its queue")
    return fact


def _moment(value: object) -> datetime:
    if not isinstance(value, str):
        raise BadFacts("started_at must be an ISO 8601 time")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise BadFacts(f"started_at is not an ISO 8601 time: {value[:40]!r}") from None
    if moment.tzinfo is None:
        raise BadFacts("started_at must carry its UTC offset")
    return moment.astimezone(UTC)


def _name(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > MAX_NAME:
        raise BadFacts(f"{key} must be a name of at most {MAX_NAME} characters")
    return value


def _flag(data: Mapping[str, Any], key: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise BadFacts(f"{key} must be true or false")
    return value


def _seconds(data: Mapping[str, Any], key: str) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadFacts(f"{key} must be a number of seconds")
    if not math.isfinite(value) or value < 0:
        raise BadFacts(f"{key} must be a finite number of seconds, not negative")
    return float(value)


@dataclass(frozen=True, slots=True)
class Period:
    """Whole local days, first to last inclusive, in the hotline's time zone."""

    first: date
    last: date
    timezone: str

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise BadRange("order", "the last day comes before the first")
        if self.days > MAX_RANGE_DAYS:
            raise BadRange("too_long", f"a report covers at most {MAX_RANGE_DAYS} days")
        ZoneInfo(self.timezone)  # an unknown zone fails here, not halfway through a report

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def dates(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range(self.days)]

    def utc_bounds(self) -> tuple[datetime, datetime]:
        """[start, end): local midnight of the first day to local midnight after the last."""
        zone = ZoneInfo(self.timezone)
        start = datetime.combine(self.first, time(0), tzinfo=zone)
        end = datetime.combine(self.last + timedelta(days=1), time(0), tzinfo=zone)
        return start.astimezone(UTC), end.astimezone(UTC)

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(ZoneInfo(self.timezone))

    def holds(self, moment: datetime) -> bool:
        return self.first <= self.local(moment).date() <= self.last


def parse_period(first: str, last: str, timezone: str) -> Period:
    """A period from the form's two YYYY-MM-DD fields; BadRange says what is wrong."""
    try:
        start, end = date.fromisoformat(first), date.fromisoformat(last)
    except ValueError:
        raise BadRange("format", "dates must be written YYYY-MM-DD") from None
    return Period(start, end, timezone)
