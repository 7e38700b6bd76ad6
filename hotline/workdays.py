"""China's working-day calendar: public holidays and make-up working days (调休)."""

from __future__ import annotations

from datetime import date

import chinese_calendar


def is_workday(day: date) -> bool:
    """True on a working day in mainland China.

    Outside the years chinesecalendar knows (it follows the State Council's yearly notice), fall
    back to Monday-Friday rather than fail a call or a deadline.
    """
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
