"""Work-order deadlines in working days on mainland China's calendar (holidays and 调休).

Counting follows the Civil Code's rules for periods (民法典 §201, §203): the day a period starts
is not counted, and a period ends at 24:00 of its last day. So ``add_working_days(t, n)`` is the
end of the n-th working day after t's local day, and an order that arrives on a rest day simply
starts counting at the next working day.

Deadlines end at 23:59:59.999999 local rather than at office close (17:30): the provincial centre
assesses "within N working days" by date, county unions keep different office hours, and a
handler who replies at 18:00 on the last day has met the deadline the caller was promised.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hotline.workdays import NO_OVERRIDES, Overrides, is_workday

SHANGHAI = "Asia/Shanghai"


class Category(StrEnum):
    """What the caller needs; it sets how many working days the org unit has to reply."""

    WAGE_ARREARS = "wage_arrears"
    WORK_INJURY = "work_injury"
    LABOR_CONTRACT = "labor_contract"
    SOCIAL_INSURANCE = "social_insurance"
    LEGAL_CONSULTATION = "legal_consultation"
    HARDSHIP_ASSISTANCE = "hardship_assistance"
    SUGGESTION = "suggestion"
    OTHER = "other"


class DueState(StrEnum):
    """Traffic light for a deadline on the dashboard."""

    OK = "ok"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    NONE = "none"


# A consultation needs an answer, not an investigation; everything else gets the full five days.
DEFAULT_REPLY_DAYS: Mapping[Category, int] = MappingProxyType(
    {
        Category.WAGE_ARREARS: 5,
        Category.WORK_INJURY: 5,
        Category.LABOR_CONTRACT: 5,
        Category.SOCIAL_INSURANCE: 5,
        Category.LEGAL_CONSULTATION: 2,
        Category.HARDSHIP_ASSISTANCE: 5,
        Category.SUGGESTION: 5,
        Category.OTHER: 5,
    }
)


@dataclass(frozen=True)
class Deadlines:
    """The deadlines an org unit is working against; None where nothing is due."""

    sign_due: datetime | None = None
    reply_due: datetime | None = None
    # The end of the window in which the org unit may hand the order back, not an obligation.
    return_due: datetime | None = None


@dataclass(frozen=True)
class DeadlinePolicy:
    """How long an org unit has for each step; defaults follow the 12351 practice.

    Urgent orders (急事急办) must be signed for and, if misrouted, returned within hours of
    clock time, because the point is that nobody waits for Monday; their reply is due at the end
    of the next working day.
    """

    sign_days: int = 1
    return_days: int = 2
    reply_days: Mapping[Category, int] = field(default_factory=lambda: DEFAULT_REPLY_DAYS)
    urgent_sign: timedelta = timedelta(hours=2)
    urgent_return: timedelta = timedelta(hours=2)
    urgent_reply_days: int = 1
    max_extension_days: int = 10
    due_soon: timedelta = timedelta(hours=24)
    tz: str = SHANGHAI
    # The centre's own closures and extra working days on top of China's calendar.
    workday_overrides: Overrides = field(default_factory=lambda: NO_OVERRIDES)

    def __post_init__(self) -> None:
        _check_days(self)
        _check_clock(self)
        missing = sorted(set(Category) - set(self.reply_days))
        if missing:
            raise ValueError(f"reply_days has no deadline for categories: {', '.join(missing)}")
        try:
            ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {self.tz!r}") from exc

    def reply_days_for(self, category: Category) -> int:
        return self.reply_days[category]


def _check_days(policy: DeadlinePolicy) -> None:
    counts = {
        "sign_days": policy.sign_days,
        "return_days": policy.return_days,
        "urgent_reply_days": policy.urgent_reply_days,
        "max_extension_days": policy.max_extension_days,
        **{f"reply_days[{cat}]": days for cat, days in policy.reply_days.items()},
    }
    for name, value in counts.items():
        if value < 0:
            raise ValueError(f"{name} must be zero or more working days, got {value}")


def _check_clock(policy: DeadlinePolicy) -> None:
    spans = {
        "urgent_sign": policy.urgent_sign,
        "urgent_return": policy.urgent_return,
        "due_soon": policy.due_soon,
    }
    for name, span in spans.items():
        if span <= timedelta(0):
            raise ValueError(f"{name} must be a positive duration, got {span}")


def require_aware(moment: datetime, name: str) -> None:
    """Refuse naive datetimes: a deadline without a zone is off by 8 hours somewhere."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {moment.isoformat()}")


def end_of_day(day: date, tz: str = SHANGHAI) -> datetime:
    """The last instant of ``day`` in local time (民法典 §203: a period ends at 24:00)."""
    return datetime.combine(day, time.max, tzinfo=ZoneInfo(tz))


def next_working_day(day: date, overrides: Overrides = NO_OVERRIDES) -> date:
    """The first working day strictly after ``day``."""
    candidate = day + timedelta(days=1)
    while not is_workday(candidate, overrides):
        candidate += timedelta(days=1)
    return candidate


def add_working_days(
    start: datetime, days: int, tz: str = SHANGHAI, overrides: Overrides = NO_OVERRIDES
) -> datetime:
    """End of the ``days``-th working day after ``start``'s local day.

    ``days=0`` means the end of the current working day (the next one if ``start`` is on a
    rest day).
    """
    require_aware(start, "start")
    if days < 0:
        raise ValueError(f"days must be zero or more, got {days}")
    day = start.astimezone(ZoneInfo(tz)).date()
    if days == 0:
        working = is_workday(day, overrides)
        return end_of_day(day if working else next_working_day(day, overrides), tz)
    for _ in range(days):
        day = next_working_day(day, overrides)
    return end_of_day(day, tz)


def working_days_between(
    a: datetime, b: datetime, tz: str = SHANGHAI, overrides: Overrides = NO_OVERRIDES
) -> int:
    """Working days after ``a``'s local day up to and including ``b``'s; negative if b < a.

    The inverse of ``add_working_days``: ``working_days_between(t, add_working_days(t, n)) == n``
    for n >= 1, so an order replied within its deadline took at most its allotted days.
    """
    require_aware(a, "a")
    require_aware(b, "b")
    zone = ZoneInfo(tz)
    first, last = a.astimezone(zone).date(), b.astimezone(zone).date()
    if last < first:
        return -working_days_between(b, a, tz, overrides)
    span = (last - first).days
    return sum(1 for i in range(1, span + 1) if is_workday(first + timedelta(days=i), overrides))


def due_state(
    due: datetime | None, now: datetime, soon: timedelta = timedelta(hours=24)
) -> DueState:
    """Red once ``now`` is past ``due``, amber within ``soon`` of it (clock time)."""
    if due is None:
        return DueState.NONE
    require_aware(due, "due")
    require_aware(now, "now")
    if now > due:
        return DueState.OVERDUE
    if due - now <= soon:
        return DueState.DUE_SOON
    return DueState.OK


def schedule(
    policy: DeadlinePolicy,
    category: Category,
    dispatched_at: datetime,
    *,
    urgent_since: datetime | None = None,
    extension_days: int = 0,
) -> Deadlines:
    """All three deadlines of an order dispatched at ``dispatched_at``.

    The clock starts at dispatch because that is when the org unit can act. An order marked
    urgent after dispatch gets the urgent limits counted from the marking, but never a later
    deadline than it already had.
    """
    if not 0 <= extension_days <= policy.max_extension_days:
        raise ValueError(
            f"extension_days must be 0..{policy.max_extension_days}, got {extension_days}"
        )
    normal = _normal_schedule(policy, category, dispatched_at, extension_days)
    if urgent_since is None:
        return normal
    start = max(dispatched_at, urgent_since)
    return Deadlines(
        sign_due=_earlier(normal.sign_due, start + policy.urgent_sign),
        reply_due=_earlier(
            normal.reply_due,
            add_working_days(
                start,
                policy.urgent_reply_days + extension_days,
                policy.tz,
                policy.workday_overrides,
            ),
        ),
        return_due=_earlier(normal.return_due, start + policy.urgent_return),
    )


def _normal_schedule(
    policy: DeadlinePolicy, category: Category, dispatched_at: datetime, extension_days: int
) -> Deadlines:
    reply_days = policy.reply_days_for(category) + extension_days
    tz, overrides = policy.tz, policy.workday_overrides
    return Deadlines(
        sign_due=add_working_days(dispatched_at, policy.sign_days, tz, overrides),
        reply_due=add_working_days(dispatched_at, reply_days, tz, overrides),
        return_due=add_working_days(dispatched_at, policy.return_days, tz, overrides),
    )


def _earlier(current: datetime | None, candidate: datetime) -> datetime:
    return candidate if current is None else min(current, candidate)
