"""China's working-day calendar: public holidays and make-up working days (调休), with the
centre's own overrides on top (a local closure, an extra working day), passed in by the caller."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import chinese_calendar

# date -> True (a working day after all) or False (closed); see hotline/holidays.py.
Overrides = Mapping[date, bool]
NO_OVERRIDES: Overrides = {}


def is_workday(day: date, overrides: Overrides = NO_OVERRIDES) -> bool:
    """True on a working day in mainland China, unless the centre overrides the day.

    Outside the years chinesecalendar knows (it follows the State Council's yearly notice), fall
    back to Monday-Friday rather than fail a call or a deadline.
    """
    if day in overrides:
        return overrides[day]
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


def holiday_name(day: date) -> str | None:
    """The public holiday on this day (e.g. 'National Day'), or None."""
    try:
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return None
    return str(name) if on_holiday and name else None
