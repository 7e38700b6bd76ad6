"""The dashboard's figures, folded from grouped counts: pure, so every sum is unit-tested.

The database groups the orders a user may see by (status, category, org unit, deadline
bucket, taken today); this module turns those few hundred rows into the page's figures: totals
by status in lifecycle order, by category, by the org units one level below the user's own
(a province sees its cities, a city its counties), overdue and due-soon counts, and the
average hours from dispatch to signing and to the reply.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from backoffice.domain.deadlines import Category
from backoffice.domain.lifecycle import Status


class Due(StrEnum):
    """Where an order stands against the deadline that binds it now (sign or reply)."""

    NONE = "none"  # no running deadline (accepted, replied, closed...)
    OK = "ok"
    DUE_SOON = "due_soon"  # within a day
    OVERDUE = "overdue"


@dataclass(frozen=True)
class Group:
    """One row of the database's GROUP BY."""

    status: Status
    category: Category
    org_unit_id: int | None
    due: Due
    today: bool  # taken in since local midnight
    count: int


@dataclass(frozen=True)
class Unit:
    id: int
    name: str
    path: str  # materialised path "/1/14/17/"


@dataclass(frozen=True)
class UnitCount:
    unit_id: int | None  # None: orders with no org unit yet, or outside the user's tree
    name: str
    count: int


@dataclass(frozen=True)
class Dashboard:
    total: int
    today: int
    open: int  # not closed
    overdue: int
    due_soon: int
    by_status: list[tuple[Status, int]]  # every status, in lifecycle order
    by_category: list[tuple[Category, int]]  # most frequent first, zeros left out
    by_unit: list[UnitCount]  # most orders first
    avg_sign_hours: float | None  # None: nothing was signed for in the period
    avg_reply_hours: float | None
    signed: int  # how many sign-fors and replies the averages are over
    replied: int


def aggregate(
    groups: Iterable[Group],
    units: Mapping[int, Unit],
    scope: Unit,
    sign_times: Iterable[tuple[datetime, datetime]] = (),
    reply_times: Iterable[tuple[datetime, datetime]] = (),
) -> Dashboard:
    """The figures for a user whose org unit is ``scope``.

    ``sign_times`` and ``reply_times`` are (dispatched at, signed/replied at) pairs; a pair
    the wrong way round (signed before a later redispatch) says nothing and is left out.
    """
    rows = [g for g in groups if g.count > 0]
    by_status: Counter[Status] = Counter()
    by_category: Counter[Category] = Counter()
    by_unit: Counter[int | None] = Counter()
    for g in rows:
        by_status[g.status] += g.count
        by_category[g.category] += g.count
        by_unit[_bucket(g.org_unit_id, units, scope)] += g.count
    signs, replies = _hours(sign_times), _hours(reply_times)
    return Dashboard(
        total=sum(g.count for g in rows),
        today=sum(g.count for g in rows if g.today),
        open=sum(g.count for g in rows if g.status is not Status.CLOSED),
        overdue=sum(g.count for g in rows if g.due is Due.OVERDUE),
        due_soon=sum(g.count for g in rows if g.due is Due.DUE_SOON),
        by_status=[(s, by_status[s]) for s in Status],
        by_category=sorted(
            by_category.items(), key=lambda kv: (-kv[1], list(Category).index(kv[0]))
        ),
        by_unit=_unit_counts(by_unit, units),
        avg_sign_hours=_mean(signs),
        avg_reply_hours=_mean(replies),
        signed=len(signs),
        replied=len(replies),
    )


def _bucket(unit_id: int | None, units: Mapping[int, Unit], scope: Unit) -> int | None:
    """The unit one level below ``scope`` that ``unit_id`` lies under (or ``scope`` itself)."""
    unit = units.get(unit_id) if unit_id is not None else None
    if unit is None or not unit.path.startswith(scope.path):
        return None
    below = unit.path[len(scope.path) :].strip("/")
    if not below:
        return scope.id
    return int(below.split("/")[0])


def _unit_counts(counts: Counter[int | None], units: Mapping[int, Unit]) -> list[UnitCount]:
    result = [
        UnitCount(uid, units[uid].name if uid is not None and uid in units else "", n)
        for uid, n in counts.items()
    ]
    return sorted(result, key=lambda u: (-u.count, u.unit_id is None, u.name))


def _hours(pairs: Iterable[tuple[datetime, datetime]]) -> list[float]:
    spans = [done - start for start, done in pairs]
    return [s / timedelta(hours=1) for s in spans if s >= timedelta(0)]


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None
