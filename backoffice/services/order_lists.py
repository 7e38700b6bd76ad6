"""Listing work orders: filters, and pages by keyset on (created_at, id), never OFFSET."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, and_, func, or_
from sqlalchemy.orm import load_only
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from backoffice import access, search
from backoffice.access import Viewer, viewer_of
from backoffice.domain import lifecycle as lc
from backoffice.domain.deadlines import Category, DueState
from backoffice.errors import Forbidden, Invalid
from backoffice.models import OrgUnit, User, WorkOrder, utcnow
from backoffice.models.base import MAX_ID


@dataclass(frozen=True)
class OrderFilters:
    status: Sequence[lc.Status] = ()
    category: Sequence[Category] = ()
    org_unit_id: int | None = None  # the unit and everything under it
    assignee_id: int | None = None
    overdue: bool | None = None  # a sign or reply deadline has passed
    created_from: datetime | None = None  # inclusive
    created_to: datetime | None = None  # exclusive
    # Pages only (issue 5): deadline traffic light, urgency, the caller's stored number.
    due: DueState | None = None  # DUE_SOON or OVERDUE
    urgent: bool | None = None
    caller_phone: str | None = None  # as identifiers.normalize_phone stores it
    # Full-text search (backoffice.search): every word must occur; results come newest
    # first by arrival (id), paged by id.
    q: str | None = None


@dataclass(frozen=True)
class Page:
    items: list[WorkOrder]
    next_cursor: str | None


MAX_PAGE = 100
SOON = timedelta(hours=24)  # the default of domain.deadlines.due_state


def list_orders(
    session: Session,
    actor: User,
    filters: OrderFilters = OrderFilters(),
    *,
    limit: int = 20,
    cursor: str | None = None,
    now: datetime | None = None,
    urgent_first: bool = False,
    only: Sequence[str] = (),
) -> Page:
    """Newest first, a page at a time by keyset on (created_at, id): a page never repeats or
    skips an order however many come in meanwhile, and page 1000 costs what page 1 does.

    ``urgent_first`` (the pages) puts urgent orders before the others, keyset on
    (urgent, created_at, id); its cursors are not interchangeable with the plain ones.
    ``only`` names the columns the caller reads (the id and the cursor's are always loaded):
    a list then skips the long texts (summary aside, transcripts can be pages long).
    """
    limit = max(1, min(limit, MAX_PAGE))
    viewer = viewer_of(session, actor)
    clauses = [access.visible(viewer), *filter_clauses(session, filters, now)]
    if filters.caller_phone:
        clauses.append(_caller(viewer, filters.caller_phone))
    found = search.parse_query(filters.q) if filters.q is not None else None
    if found is not None:
        return _search_page(session, viewer, found, clauses, limit, cursor, only)
    newest: list[ColumnElement[Any]] = [col(WorkOrder.created_at).desc(), col(WorkOrder.id).desc()]
    order_by = [col(WorkOrder.urgent).desc(), *newest] if urgent_first else newest
    if cursor is not None and urgent_first:
        clauses.append(_after_urgent(*decode_urgent_cursor(cursor)))
    elif cursor is not None:
        clauses.append(_after(*decode_cursor(cursor)))
    query = select(WorkOrder).where(*clauses).order_by(*order_by).limit(limit + 1)
    return _page(list(session.exec(_only(query, only)).all()), limit, urgent_first)


def _only(query: SelectOfScalar[WorkOrder], only: Sequence[str]) -> SelectOfScalar[WorkOrder]:
    if not only:
        return query
    names = {*only, "id", "created_at", "urgent"}
    return query.options(load_only(*(getattr(WorkOrder, name) for name in sorted(names))))


def _page(rows: list[WorkOrder], limit: int, urgent_first: bool = False) -> Page:
    more = len(rows) > limit
    items = rows[:limit]
    if not more:
        return Page(items, None)
    last = items[-1]
    return Page(items, encode_urgent_cursor(last) if urgent_first else encode_cursor(last))


def _caller(viewer: access.Viewer, phone: str) -> ColumnElement[bool]:
    # Looking orders up by number is seeing the number: a role that has numbers masked may
    # not do it, and handlers may not find anonymous callers this way.
    if access.masks_number(viewer.role, anonymous=False):
        raise Forbidden(f"a {viewer.role} does not see callers' numbers")
    same = col(WorkOrder.caller_phone) == phone
    if access.masks_number(viewer.role, anonymous=True):
        return and_(same, col(WorkOrder.anonymous).is_(False))
    return same


def _search_page(
    session: Session,
    viewer: Viewer,
    found: search.SearchQuery,
    clauses: list[ColumnElement[bool]],
    limit: int,
    cursor: str | None,
    only: Sequence[str] = (),
) -> Page:
    """Search results, newest first by arrival (id), keyset on the id: on SQLite the text
    index hands matches over in that order, so a page never waits for every match."""
    plan = search.plan(session, found, viewer)
    order_id: ColumnElement[Any]
    if plan.fts_match is None and not plan.joins_fts:
        order_id = cast(ColumnElement[Any], col(WorkOrder.id))
        query = select(WorkOrder)
    else:
        order_id = plan.fts_table.c.rowid
        query = select(WorkOrder).join(plan.fts_table, order_id == col(WorkOrder.id))
    clauses = list(clauses)
    if plan.fts_match is not None:
        clauses.append(search.fts_matches(plan.fts_match, plan.fts_table))
    before = decode_cursor(cursor)[1] if cursor is not None else None
    if before is not None:
        clauses.append(order_id < before)
    query = query.order_by(order_id.desc()).limit(limit + 1)
    if plan.probe is not None:
        # The newest matches in the window come first in the full result too: a full page
        # there is the page; anything less and the indexes answer the whole query.
        top = before if before is not None else session.exec(select(func.max(WorkOrder.id))).one()
        if top is not None:
            window = [*clauses, plan.probe, order_id >= top - search.PROBE_WINDOW]
            rows = list(session.exec(_only(query.where(*window), only)).all())
            if len(rows) > limit:
                return _page(rows, limit)
    query = query.where(*clauses, *plan.clauses)
    return _page(list(session.exec(_only(query, only)).all()), limit)


def filter_clauses(
    session: Session, filters: OrderFilters, now: datetime | None = None
) -> list[ColumnElement[bool]]:
    """The WHERE clauses of ``filters`` but the search (the access rule is the caller's)."""
    clauses: list[ColumnElement[bool]] = []
    if filters.status:
        clauses.append(col(WorkOrder.status).in_(list(filters.status)))
    if filters.category:
        clauses.append(col(WorkOrder.category).in_(list(filters.category)))
    if filters.org_unit_id is not None:
        unit = session.get(OrgUnit, filters.org_unit_id)
        if unit is None:
            raise Invalid(f"org unit {filters.org_unit_id} does not exist")
        clauses.append(access.subtree_ids(unit.path))
    if filters.assignee_id is not None:
        clauses.append(col(WorkOrder.assignee_id) == filters.assignee_id)
    if filters.overdue is not None:
        clauses.append(_overdue(now or utcnow(), filters.overdue))
    if filters.created_from is not None:
        clauses.append(col(WorkOrder.created_at) >= filters.created_from)
    if filters.created_to is not None:
        clauses.append(col(WorkOrder.created_at) < filters.created_to)
    if filters.urgent is not None:
        clauses.append(col(WorkOrder.urgent).is_(filters.urgent))
    if filters.due is DueState.OVERDUE:
        clauses.append(_overdue(now or utcnow(), True))
    elif filters.due is DueState.DUE_SOON:
        clauses.append(_due_soon(now or utcnow()))
    elif filters.due is not None:
        raise Invalid("the deadline filter is due_soon or overdue")
    return clauses


def _overdue(now: datetime, overdue: bool) -> ColumnElement[bool]:
    # The lifecycle keeps only the deadlines that bind the order now, so a past one is overdue.
    sign, reply = col(WorkOrder.sign_due), col(WorkOrder.reply_due)
    late = or_(sign < now, reply < now)
    if overdue:
        return late
    return and_(or_(sign.is_(None), sign >= now), or_(reply.is_(None), reply >= now))


def _due_soon(now: datetime) -> ColumnElement[bool]:
    # Amber as domain.deadlines.due_state paints it: a deadline within a day, none passed.
    soon = now + SOON
    sign, reply = col(WorkOrder.sign_due), col(WorkOrder.reply_due)
    near = or_(and_(sign >= now, sign <= soon), and_(reply >= now, reply <= soon))
    return and_(near, _overdue(now, False))


def _after(created_at: datetime, order_id: int) -> ColumnElement[bool]:
    created = col(WorkOrder.created_at)
    return or_(created < created_at, and_(created == created_at, col(WorkOrder.id) < order_id))


def encode_cursor(order: WorkOrder) -> str:
    text = f"{order.created_at.astimezone(UTC).isoformat()}|{order.id}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, order_id = text.split("|")
        created_at, oid = datetime.fromisoformat(stamp), int(order_id)
    except (ValueError, binascii.Error) as exc:
        raise Invalid("cursor is not one this API handed out") from exc
    if created_at.tzinfo is None or not 1 <= oid <= MAX_ID:
        raise Invalid("cursor is not one this API handed out")
    return created_at, oid


def _after_urgent(urgent: bool, created_at: datetime, order_id: int) -> ColumnElement[bool]:
    flag = col(WorkOrder.urgent)
    later = and_(flag.is_(urgent), _after(created_at, order_id))
    return or_(flag.is_(False), later) if urgent else later


def encode_urgent_cursor(order: WorkOrder) -> str:
    text = f"{int(order.urgent)}|{order.created_at.astimezone(UTC).isoformat()}|{order.id}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_urgent_cursor(cursor: str) -> tuple[bool, datetime, int]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        flag, rest = text.split("|", 1)
    except (ValueError, binascii.Error) as exc:
        raise Invalid("cursor is not one this page handed out") from exc
    if flag not in ("0", "1"):
        raise Invalid("cursor is not one this page handed out")
    plain = base64.urlsafe_b64encode(rest.encode()).decode()
    return flag == "1", *decode_cursor(plain)
