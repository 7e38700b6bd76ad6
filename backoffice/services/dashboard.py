"""The dashboard's numbers for one user: a GROUP BY under the access rules, folded by the domain.

The database does the counting (one grouped query over the orders the user may see, plus the
period's sign-for and reply events); `backoffice.domain.dashboard.aggregate` does the sums.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, func, literal, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from backoffice import access
from backoffice.access import viewer_of
from backoffice.domain import dashboard as dash
from backoffice.domain.lifecycle import Action
from backoffice.models import OrgUnit, User, WorkOrder, WorkOrderEvent, utcnow

PERIOD = timedelta(days=30)  # the averages are over the last 30 days' sign-fors and replies
SOON = timedelta(hours=24)  # amber, as the order list's traffic lights


def dashboard(
    session: Session, actor: User, *, tz: str, now: datetime | None = None
) -> dash.Dashboard:
    now = now or utcnow()
    viewer = viewer_of(session, actor)
    visible = access.visible(viewer)
    units = {
        u.id: dash.Unit(u.id, u.name, u.path)
        for u in session.exec(select(OrgUnit)).all()
        if u.id is not None
    }
    groups = _groups(session, visible, now, _midnight(now, tz))
    signs, replies = _durations(session, visible, now)
    return dash.aggregate(groups, units, units[viewer.org_unit_id], signs, replies)


def _midnight(now: datetime, tz: str) -> datetime:
    local = now.astimezone(ZoneInfo(tz))
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def _groups(
    session: Session, visible: ColumnElement[bool], now: datetime, midnight: datetime
) -> list[dash.Group]:
    sign, reply = col(WorkOrder.sign_due), col(WorkOrder.reply_due)
    due = case(
        (or_(sign < now, reply < now), literal(dash.Due.OVERDUE.value)),
        (or_(sign <= now + SOON, reply <= now + SOON), literal(dash.Due.DUE_SOON.value)),
        (or_(sign.is_not(None), reply.is_not(None)), literal(dash.Due.OK.value)),
        else_=literal(dash.Due.NONE.value),
    )
    today = case((col(WorkOrder.created_at) >= midnight, 1), else_=0)
    # Grouped in an outer query: PostgreSQL would not match the CASE's parameters otherwise.
    inner = (
        sa_select(
            col(WorkOrder.status).label("status"),
            col(WorkOrder.category).label("category"),
            col(WorkOrder.org_unit_id).label("org_unit_id"),
            due.label("due"),
            today.label("today"),
        )
        .where(visible)
        .subquery()
    )
    keys = (inner.c.status, inner.c.category, inner.c.org_unit_id, inner.c.due, inner.c.today)
    rows = session.execute(sa_select(*keys, func.count()).group_by(*keys)).all()
    return [
        dash.Group(status, category, unit_id, dash.Due(due_value), bool(today_flag), int(n))
        for status, category, unit_id, due_value, today_flag, n in rows
    ]


def _durations(
    session: Session, visible: ColumnElement[bool], now: datetime
) -> tuple[list[tuple[datetime, datetime]], list[tuple[datetime, datetime]]]:
    query = (
        sa_select(col(WorkOrderEvent.action), col(WorkOrder.dispatched_at), col(WorkOrderEvent.at))
        .join(WorkOrder, col(WorkOrder.id) == col(WorkOrderEvent.work_order_id))
        .where(
            visible,
            col(WorkOrderEvent.action).in_([Action.SIGN.value, Action.REPLY.value]),
            col(WorkOrderEvent.at) >= now - PERIOD,
            col(WorkOrder.dispatched_at).is_not(None),
        )
    )
    signs: list[tuple[datetime, datetime]] = []
    replies: list[tuple[datetime, datetime]] = []
    for action, dispatched_at, at in session.execute(query).all():
        (signs if action == Action.SIGN.value else replies).append((dispatched_at, at))
    return signs, replies
