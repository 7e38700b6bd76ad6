"""Opening hours against China's calendar: holidays closed, make-up working days open."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ivr.flow.hours import describe_day, is_open, is_working_day
from ivr.flow.model import Schedule

pytestmark = pytest.mark.unit

SHANGHAI = ZoneInfo("Asia/Shanghai")
LAWYERS = Schedule.model_validate({"workdays": ["09:00-12:00", "14:00-17:30"]})


def at(day: date, hour: int, minute: int = 0, zone: ZoneInfo = SHANGHAI) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)


TUESDAY = date(2026, 3, 10)
SATURDAY = date(2026, 3, 14)
NATIONAL_DAY = date(2026, 10, 1)
# 2026-10-10 is a Saturday worked to make up for the National Day holiday (调休).
MAKE_UP_SATURDAY = date(2026, 10, 10)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (at(TUESDAY, 9), True),
        (at(TUESDAY, 11, 59), True),
        (at(TUESDAY, 12), False),  # end is exclusive: lunch break starts at noon
        (at(TUESDAY, 13, 59), False),
        (at(TUESDAY, 17, 29), True),
        (at(TUESDAY, 17, 30), False),
        (at(TUESDAY, 8, 59), False),
        (at(SATURDAY, 10), False),
        (at(NATIONAL_DAY, 10), False),
        (at(MAKE_UP_SATURDAY, 10), True),
        (at(MAKE_UP_SATURDAY, 13), False),
    ],
)
def test_lawyer_hours(moment: datetime, expected: bool) -> None:
    assert is_open(LAWYERS, moment) is expected


def test_national_day_is_a_thursday_but_closed() -> None:
    assert NATIONAL_DAY.weekday() == 3
    assert not is_working_day(LAWYERS, NATIONAL_DAY)


def test_make_up_day_is_a_saturday_but_open() -> None:
    assert MAKE_UP_SATURDAY.weekday() == 5
    assert is_working_day(LAWYERS, MAKE_UP_SATURDAY)


def test_without_china_holidays_weekdays_decide() -> None:
    plain = Schedule.model_validate({"workdays": ["09:00-17:00"], "holidays": "none"})
    assert is_open(plain, at(NATIONAL_DAY, 10))
    assert not is_open(plain, at(MAKE_UP_SATURDAY, 10))


def test_weekend_ranges_apply_on_rest_days() -> None:
    weekend = Schedule.model_validate({"workdays": ["09:00-17:00"], "weekends": ["10:00-12:00"]})
    assert is_open(weekend, at(SATURDAY, 11))
    assert not is_open(weekend, at(SATURDAY, 15))
    assert is_open(weekend, at(NATIONAL_DAY, 11))


def test_always_open() -> None:
    always = Schedule.model_validate({"always": True})
    assert is_open(always, at(NATIONAL_DAY, 3))


def test_moment_is_converted_to_the_schedule_zone() -> None:
    # 02:30 UTC on a Tuesday is 10:30 in Shanghai (open) and 03:30 in London (closed).
    utc = datetime(2026, 3, 10, 2, 30, tzinfo=UTC)
    assert is_open(LAWYERS, utc)
    london = Schedule.model_validate({"workdays": ["09:00-17:00"], "timezone": "Europe/London"})
    assert not is_open(london, utc)
    assert is_open(london, utc + timedelta(hours=8))


def test_flow_timezone_is_the_default() -> None:
    utc = datetime(2026, 3, 10, 2, 30, tzinfo=UTC)
    assert not is_open(LAWYERS, utc, default_timezone="America/New_York")


def test_the_local_date_decides_the_calendar() -> None:
    # Sunday 23:30 UTC is already Monday 07:30 in Shanghai: a working day there.
    all_day = Schedule.model_validate({"workdays": ["00:00-24:00"]})
    assert is_open(all_day, datetime(2026, 3, 8, 23, 30, tzinfo=UTC))
    assert not is_open(all_day, datetime(2026, 3, 8, 15, 0, tzinfo=UTC))


def test_naive_moments_are_refused() -> None:
    with pytest.raises(ValueError, match="time-zone aware"):
        is_open(LAWYERS, datetime(2026, 3, 10, 10, 0))


@pytest.mark.parametrize(
    ("day", "text"),
    [
        (TUESDAY, "2026-03-10 working day: 09:00-12:00, 14:00-17:30"),
        (SATURDAY, "2026-03-14 rest day: closed"),
        (NATIONAL_DAY, "2026-10-01 rest day (National Day): closed"),
        (MAKE_UP_SATURDAY, "2026-10-10 make-up working day: 09:00-12:00, 14:00-17:30"),
    ],
)
def test_describe_day(day: date, text: str) -> None:
    assert describe_day(LAWYERS, day) == text
