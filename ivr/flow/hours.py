"""Opening hours: whether a schedule is staffed at a moment, in the schedule's own time zone."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from hotline.workdays import NO_OVERRIDES, Overrides, holiday_name, is_workday
from ivr.flow.model import DEFAULT_TIMEZONE, Schedule, TimeRange


def is_working_day(schedule: Schedule, day: date, overrides: Overrides = NO_OVERRIDES) -> bool:
    """Working day by the schedule's calendar: China's (with 调休) or plain Monday-Friday;
    the centre's own overrides (closures, extra working days) apply to either."""
    if schedule.holidays == "china":
        return is_workday(day, overrides)
    return overrides.get(day, day.weekday() < 5)


def day_ranges(
    schedule: Schedule, day: date, overrides: Overrides = NO_OVERRIDES
) -> tuple[TimeRange, ...]:
    """The opening ranges that apply on this local date."""
    working = is_working_day(schedule, day, overrides)
    return schedule.workdays if working else schedule.weekends


def local_moment(schedule: Schedule, moment: datetime, default_timezone: str) -> datetime:
    """`moment` on the schedule's wall clock; a naive moment is refused, not guessed."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("moment must be time-zone aware")
    return moment.astimezone(ZoneInfo(schedule.timezone or default_timezone))


def is_open(
    schedule: Schedule,
    moment: datetime,
    *,
    default_timezone: str = DEFAULT_TIMEZONE,
    overrides: Overrides = NO_OVERRIDES,
) -> bool:
    """True if the service is staffed at `moment` (converted to the schedule's zone)."""
    local = local_moment(schedule, moment, default_timezone)
    if schedule.always:
        return True
    second = local.hour * 3600 + local.minute * 60 + local.second
    ranges = day_ranges(schedule, local.date(), overrides)
    return any(r.start * 60 <= second < r.end * 60 for r in ranges)


def describe_day(schedule: Schedule, day: date, overrides: Overrides = NO_OVERRIDES) -> str:
    """One line for admins, e.g. '2026-10-01 rest day (National Day): closed'."""
    if schedule.always:
        return f"{day.isoformat()}: open 24 hours"
    kind = "working day" if is_working_day(schedule, day, overrides) else "rest day"
    if kind == "working day" and day.weekday() >= 5:
        kind = "make-up working day"
    holiday = holiday_name(day) if schedule.holidays == "china" else None
    label = f"{kind} ({holiday})" if holiday else kind
    ranges = day_ranges(schedule, day, overrides)
    hours = ", ".join(str(r) for r in ranges) if ranges else "closed"
    return f"{day.isoformat()} {label}: {hours}"
