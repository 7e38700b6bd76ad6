"""Listing work orders: filters, and pages by keyset on (created_at, id), never OFFSET."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, and_, or_
from sqlmodel import Session, col, select

from backoffice import access, search
from backoffice.access import Viewer, viewer_of
from backoffice.domain import lifecycle as lc
from backoffice.domain.deadlines import Category
from backoffice.errors import Invalid
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
    # Full-text search (backoffice.search): every word must occur; results come newest
    # first by arrival (id), paged by id.
    q: str | None = None


@dataclass(frozen=True)
class Page:
    items: list[WorkOrder]
    next_cursor: str | None


MAX_PAGE = 100


def list_orders(
    session: Session,
    actor: User,
    filters: OrderFilters = OrderFilters(),
    *,
    limit: int = 20,
    cursor: str | None = None,
    now: datetime | None = None,
) -> Page:
    """Newest first, a page at a time by keyset on (created_at, id): a page never repeats or
    skips an order however many come in meanwhile, and page 1000 costs what page 1 does."""
    limit = max(1, min(limit, MAX_PAGE))
    viewer = viewer_of(session, actor)
    clauses = [access.visible(viewer), *filter_clauses(session, filters, now)]
    found = search.parse_query(filters.q) if filters.q is not None else None
    if found is not None:
        return _search_page(session, viewer, found, clauses, limit, cursor)
    if cursor is not None:
        clauses.append(_after(*decode_cursor(cursor)))
    query = (
        select(WorkOrder)
        .where(*clauses)
        .order_by(col(WorkOrder.created_at).desc(), col(WorkOrder.id).desc())
        .limit(limit + 1)
    )
    return _page(list(session.exec(query).all()), limit)


def _page(rows: list[WorkOrder], limit: int) -> Page:
    more = len(rows) > limit
    items = rows[:limit]
    return Page(items, encode_cursor(items[-1]) if more else None)


def _search_page(
    session: Session,
    viewer: Viewer,
    found: search.SearchQuery,
    clauses: list[ColumnElement[bool]],
    limit: int,
    cursor: str | None,
) -> Page:
    """Search results, newest first by arrival (id), keyset on the id: on SQLite the text
    index hands matches over in that order, so a page never waits for every match."""
    plan = search.plan(session, found, viewer)
    clauses = [*clauses, *plan.clauses]
    order_id: ColumnElement[Any]
    if plan.fts_match is None:
        order_id = cast(ColumnElement[Any], col(WorkOrder.id))
        query = select(WorkOrder)
    else:
        order_id = search.FTS.c.rowid
        query = select(WorkOrder).join(search.FTS, search.FTS.c.rowid == col(WorkOrder.id))
        clauses.append(search.fts_matches(plan.fts_match))
    if cursor is not None:
        clauses.append(order_id < decode_cursor(cursor)[1])
    query = query.where(*clauses).order_by(order_id.desc()).limit(limit + 1)
    return _page(list(session.exec(query).all()), limit)


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
    return clauses


def _overdue(now: datetime, overdue: bool) -> ColumnElement[bool]:
    # The lifecycle keeps only the deadlines that bind the order now, so a past one is overdue.
    sign, reply = col(WorkOrder.sign_due), col(WorkOrder.reply_due)
    late = or_(sign < now, reply < now)
    if overdue:
        return late
    return and_(or_(sign.is_(None), sign >= now), or_(reply.is_(None), reply >= now))


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
