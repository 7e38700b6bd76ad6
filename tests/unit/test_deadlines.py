"""Working-day deadlines on China's calendar.

Holiday facts below were read from chinesecalendar 1.11 (State Council notices), not guessed:
- Spring Festival 2026: off Sun 02-15 .. Mon 02-23; make-up working days Sat 02-14, Sat 02-28.
- Mid-Autumn 2026: off Fri 09-25 .. Sun 09-27.
- National Day 2026: off Thu 10-01 .. Wed 10-07; make-up working days Sun 09-20, Sat 10-10.
- chinesecalendar 1.11 knows 2004..2026; from 2027 hotline.workdays falls back to Mon-Fri.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backoffice.domain.deadlines import (
    DEFAULT_REPLY_DAYS,
    Category,
    DeadlinePolicy,
    DueState,
    add_working_days,
    due_state,
    end_of_day,
    next_working_day,
    schedule,
    working_days_between,
)
from hotline.workdays import is_workday

pytestmark = pytest.mark.unit

SH = ZoneInfo("Asia/Shanghai")


def at(y: int, m: int, d: int, hh: int = 9, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SH)


def eod(y: int, m: int, d: int) -> datetime:
    return datetime.combine(date(y, m, d), time.max, tzinfo=SH)


# --- the calendar facts the tests rely on -----------------------------------------------------


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 2, 14), True),  # Saturday make-up day
        (date(2026, 2, 16), False),  # Monday in Spring Festival
        (date(2026, 2, 23), False),
        (date(2026, 2, 28), True),  # Saturday make-up day
        (date(2026, 9, 20), True),  # Sunday make-up day
        (date(2026, 10, 7), False),
        (date(2026, 10, 10), True),  # Saturday make-up day
    ],
)
def test_calendar_facts_the_tests_depend_on(day: date, working: bool) -> None:
    assert is_workday(day) is working


# --- add_working_days -------------------------------------------------------------------------


def test_deadline_is_the_last_instant_of_the_local_day() -> None:
    due = add_working_days(at(2026, 11, 23, 10), 1)
    assert due == eod(2026, 11, 24)
    assert due.tzinfo == SH
    assert due.time() == time(23, 59, 59, 999999)


@pytest.mark.parametrize(
    ("days", "due"),
    [
        (1, eod(2026, 2, 14)),  # the Saturday make-up day counts
        (2, eod(2026, 2, 24)),  # nine days of Spring Festival skipped
        (5, eod(2026, 2, 27)),
        (6, eod(2026, 2, 28)),  # the second make-up Saturday
        (7, eod(2026, 3, 2)),
    ],
)
def test_friday_evening_order_across_spring_festival_2026(days: int, due: datetime) -> None:
    assert add_working_days(at(2026, 2, 13, 19, 30), days) == due


def test_order_accepted_during_spring_festival_counts_from_the_first_day_back() -> None:
    assert add_working_days(at(2026, 2, 16, 11), 1) == eod(2026, 2, 24)
    assert add_working_days(at(2026, 2, 16, 11), 0) == eod(2026, 2, 24)


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        (at(2026, 9, 30, 16), 1, eod(2026, 10, 8)),
        (at(2026, 9, 30, 16), 3, eod(2026, 10, 10)),  # Saturday make-up day
        (at(2026, 9, 30, 16), 4, eod(2026, 10, 12)),
        (at(2026, 10, 3, 9), 2, eod(2026, 10, 9)),  # accepted mid-holiday
        (at(2026, 9, 18, 17), 1, eod(2026, 9, 20)),  # Sunday make-up day
        (at(2026, 9, 24, 9), 1, eod(2026, 9, 28)),  # Mid-Autumn Fri..Sun off
    ],
)
def test_national_day_and_mid_autumn_2026(start: datetime, days: int, due: datetime) -> None:
    assert add_working_days(start, days) == due


def test_order_accepted_on_a_saturday_counts_from_monday() -> None:
    saturday = at(2026, 11, 21, 10)
    assert add_working_days(saturday, 1) == eod(2026, 11, 23)
    assert add_working_days(saturday, 5) == eod(2026, 11, 27)


def test_friday_evening_and_friday_morning_orders_are_due_the_same_day() -> None:
    assert add_working_days(at(2026, 11, 20, 21), 1) == eod(2026, 11, 23)
    assert add_working_days(at(2026, 11, 20, 8), 1) == eod(2026, 11, 23)


def test_zero_days_means_the_end_of_the_current_working_day() -> None:
    assert add_working_days(at(2026, 11, 23, 10), 0) == eod(2026, 11, 23)
    assert add_working_days(at(2026, 11, 21, 10), 0) == eod(2026, 11, 23)


def test_start_is_read_in_shanghai_time_not_utc() -> None:
    # 17:30 UTC on Friday is 01:30 on Saturday in Shanghai.
    friday_utc = datetime(2026, 11, 20, 17, 30, tzinfo=UTC)
    assert add_working_days(friday_utc, 1) == eod(2026, 11, 23)
    assert add_working_days(friday_utc, 1, tz="UTC") == datetime.combine(
        date(2026, 11, 23), time.max, tzinfo=ZoneInfo("UTC")
    )


def test_outside_chinesecalendars_years_falls_back_to_monday_to_friday() -> None:
    # 2027's Spring Festival notice is not out yet: only weekends are skipped.
    assert add_working_days(at(2027, 2, 5, 18), 1) == eod(2027, 2, 8)
    # 2026-12-31 is known (a Thursday); 2027-01-01 is a guessed working Friday.
    assert add_working_days(at(2026, 12, 31, 9), 1) == eod(2027, 1, 1)
    assert add_working_days(at(2027, 1, 8, 9), 1) == eod(2027, 1, 11)


def test_naive_start_and_negative_days_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        add_working_days(datetime(2026, 11, 23, 9), 1)
    with pytest.raises(ValueError, match="zero or more"):
        add_working_days(at(2026, 11, 23), -1)


def test_next_working_day_skips_the_whole_holiday() -> None:
    assert next_working_day(date(2026, 9, 30)) == date(2026, 10, 8)
    assert end_of_day(date(2026, 10, 8)) == eod(2026, 10, 8)


aware_datetimes = st.datetimes(
    min_value=datetime(2004, 1, 2), max_value=datetime(2028, 12, 1), timezones=st.just(SH)
)


@given(start=aware_datetimes, days=st.integers(min_value=1, max_value=25))
def test_deadline_is_the_end_of_a_working_day_n_working_days_later(
    start: datetime, days: int
) -> None:
    due = add_working_days(start, days)
    assert is_workday(due.date())
    assert due.time() == time.max
    assert due > start
    assert working_days_between(start, due) == days
    assert add_working_days(start, days + 1) > due


# --- working_days_between ---------------------------------------------------------------------


def test_working_days_between_across_spring_festival() -> None:
    assert working_days_between(at(2026, 2, 13, 18), at(2026, 2, 24, 9)) == 2
    assert working_days_between(at(2026, 2, 24, 9), at(2026, 2, 13, 18)) == -2
    assert working_days_between(at(2026, 2, 15), at(2026, 2, 23)) == 0
    assert working_days_between(at(2026, 11, 23, 9), at(2026, 11, 23, 17)) == 0


# --- due_state --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "state"),
    [
        (eod(2026, 11, 24) - timedelta(days=2), DueState.OK),
        (eod(2026, 11, 24) - timedelta(hours=24), DueState.DUE_SOON),
        (eod(2026, 11, 24) - timedelta(hours=3), DueState.DUE_SOON),
        (eod(2026, 11, 24), DueState.DUE_SOON),
        (eod(2026, 11, 24) + timedelta(microseconds=1), DueState.OVERDUE),
    ],
)
def test_due_state_traffic_light(now: datetime, state: DueState) -> None:
    assert due_state(eod(2026, 11, 24), now) is state


def test_due_state_without_a_deadline_and_with_a_custom_window() -> None:
    assert due_state(None, at(2026, 11, 24)) is DueState.NONE
    due = eod(2026, 11, 24)
    assert due_state(due, due - timedelta(hours=30), soon=timedelta(hours=48)) is DueState.DUE_SOON


# --- policy and schedule ----------------------------------------------------------------------


def test_default_schedule_for_a_help_request_dispatched_before_spring_festival() -> None:
    deadlines = schedule(DeadlinePolicy(), Category.WAGE_ARREARS, at(2026, 2, 13, 15))
    assert deadlines.sign_due == eod(2026, 2, 14)
    assert deadlines.return_due == eod(2026, 2, 24)
    assert deadlines.reply_due == eod(2026, 2, 27)


def test_consultations_get_two_working_days_and_the_rest_five() -> None:
    assert DEFAULT_REPLY_DAYS[Category.LEGAL_CONSULTATION] == 2
    assert {days for cat, days in DEFAULT_REPLY_DAYS.items() if cat != "legal_consultation"} == {5}
    deadlines = schedule(DeadlinePolicy(), Category.LEGAL_CONSULTATION, at(2026, 11, 20, 15))
    assert deadlines.reply_due == eod(2026, 11, 24)


def test_urgent_order_on_a_saturday_must_be_signed_within_two_clock_hours() -> None:
    dispatched = at(2026, 11, 21, 22, 30)
    deadlines = schedule(
        DeadlinePolicy(), Category.WORK_INJURY, dispatched, urgent_since=dispatched
    )
    assert deadlines.sign_due == at(2026, 11, 22, 0, 30)
    assert deadlines.return_due == at(2026, 11, 22, 0, 30)
    assert deadlines.reply_due == eod(2026, 11, 23)


def test_marking_urgent_later_starts_the_urgent_clock_then_but_never_extends() -> None:
    dispatched = at(2026, 11, 23, 9)
    marked = at(2026, 11, 24, 10)
    deadlines = schedule(DeadlinePolicy(), Category.OTHER, dispatched, urgent_since=marked)
    assert deadlines.sign_due == at(2026, 11, 24, 12)
    assert deadlines.return_due == at(2026, 11, 24, 12)
    assert deadlines.reply_due == eod(2026, 11, 25)
    # Marked urgent late on a consultation already due on the 25th: urgent must not mean later.
    late = schedule(
        DeadlinePolicy(), Category.LEGAL_CONSULTATION, dispatched, urgent_since=at(2026, 11, 25, 10)
    )
    assert late.reply_due == eod(2026, 11, 25)
    assert late.sign_due == eod(2026, 11, 24)


def test_approved_extension_pushes_the_reply_deadline_by_working_days() -> None:
    dispatched = at(2026, 2, 12, 9)
    plain = schedule(DeadlinePolicy(), Category.LEGAL_CONSULTATION, dispatched)
    extended = schedule(DeadlinePolicy(), Category.LEGAL_CONSULTATION, dispatched, extension_days=3)
    assert plain.reply_due == eod(2026, 2, 14)
    assert extended.reply_due == eod(2026, 2, 26)
    assert extended.sign_due == plain.sign_due


def test_extension_beyond_the_policy_maximum_is_refused() -> None:
    with pytest.raises(ValueError, match=r"0\.\.10"):
        schedule(DeadlinePolicy(), Category.OTHER, at(2026, 11, 23), extension_days=11)


def test_policy_can_be_overridden_per_category() -> None:
    policy = DeadlinePolicy(reply_days={**DEFAULT_REPLY_DAYS, Category.SUGGESTION: 10})
    deadlines = schedule(policy, Category.SUGGESTION, at(2026, 9, 30, 9))
    # 10-08, 10-09, Sat 10-10, 10-12..10-16, 10-19, 10-20
    assert deadlines.reply_due == eod(2026, 10, 20)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"reply_days": {Category.OTHER: 5}}, "no deadline for categories"),
        ({"sign_days": -1}, "sign_days must be zero or more"),
        ({"urgent_sign": timedelta(0)}, "urgent_sign must be a positive duration"),
        ({"tz": "Mars/Olympus"}, "unknown time zone"),
    ],
)
def test_bad_policies_are_refused(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DeadlinePolicy(**overrides)  # type: ignore[arg-type]
