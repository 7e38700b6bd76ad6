"""The order list as CSV for Excel: the list's filters and search, its access rules and masking.

UTF-8 with a byte-order mark (Excel opens a BOM-less UTF-8 file as the local code page and
shows Chinese as mojibake). Cells that a spreadsheet would read as a formula (starting with
= + - @, a tab or a carriage return) get a leading apostrophe, so a caller's "summary" cannot
run code on the machine of whoever opens the export. Rows are written a keyset page at a time
while the response streams: an export of the whole province never sits in memory.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from backoffice.access import Viewer, viewer_of
from backoffice.models import OrgUnit, User, WorkOrder, WorkOrderListItem, utcnow
from backoffice.services import order_lists
from backoffice.services.order_views import WITHHELD, present_item

BOM = "\ufeff"
BATCH = order_lists.MAX_PAGE
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# (column, Mandarin header, English header)
COLUMNS: Sequence[tuple[str, str, str]] = (
    ("number", "工单编号", "Number"),
    ("created_at", "受理时间", "Received"),
    ("channel", "渠道", "Channel"),
    ("status", "状态", "Status"),
    ("category", "类别", "Category"),
    ("org_unit", "承办单位", "Org unit"),
    ("caller_name", "来电人", "Caller"),
    ("caller_phone", "联系电话", "Phone"),
    ("anonymous", "匿名", "Anonymous"),
    ("confidential", "保密", "Confidential"),
    ("urgent", "紧急", "Urgent"),
    ("employer_name", "用人单位", "Employer"),
    ("summary", "诉求摘要", "Summary"),
    ("sign_due", "签收期限", "Sign by"),
    ("reply_due", "答复期限", "Reply by"),
    ("due_state", "期限状态", "Deadline"),
)
LANGUAGES = ("zh", "en")


def safe_cell(value: str) -> str:
    """The cell as text a spreadsheet shows and never evaluates."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def header(lang: str) -> list[str]:
    column = 1 + LANGUAGES.index(lang)
    return [entry[column] for entry in COLUMNS]


def row(
    order: WorkOrder,
    item: WorkOrderListItem,
    units: Mapping[int, str],
    tz: str,
) -> list[str]:
    """One order as the export shows it to the viewer ``item`` was presented for."""
    zone = ZoneInfo(tz)

    def local(moment: datetime | None) -> str:
        return "" if moment is None else moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")

    withheld = item.confidential
    cells = {
        "number": item.number,
        "created_at": local(item.created_at),
        "channel": item.channel.value,
        "status": item.status.value,
        "category": item.category.value,
        "org_unit": units.get(item.org_unit_id, "") if item.org_unit_id else "",
        "caller_name": WITHHELD if withheld and order.caller_name else order.caller_name,
        "caller_phone": item.caller_phone,
        "anonymous": _flag(item.anonymous),
        "confidential": _flag(item.confidential),
        "urgent": _flag(item.urgent),
        "employer_name": WITHHELD if withheld and order.employer_name else order.employer_name,
        "summary": item.summary,
        "sign_due": local(item.sign_due),
        "reply_due": local(item.reply_due),
        "due_state": item.due_state.value,
    }
    return [safe_cell(cells[name]) for name, _, _ in COLUMNS]


def _flag(value: bool) -> str:
    return "1" if value else "0"


def to_csv(rows: Iterable[Sequence[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # RFC 4180, and what Excel writes
    writer.writerows(rows)
    return buffer.getvalue()


def export(
    engine: Engine,
    actor: User,
    filters: order_lists.OrderFilters,
    *,
    tz: str,
    lang: str = "zh",
    now: datetime | None = None,
) -> Iterator[str]:
    """The CSV text in chunks. The first page is read before this returns, so a bad filter
    is the caller's 422 rather than a stream that breaks off."""
    session = Session(engine, expire_on_commit=False)
    try:
        viewer = viewer_of(session, actor)
        units = _unit_names(session)
        first = order_lists.list_orders(session, actor, filters, limit=BATCH, now=now)
    except BaseException:
        session.close()
        raise
    return _stream(session, actor, viewer, filters, first, units, tz, lang, now or utcnow())


def _stream(
    session: Session,
    actor: User,
    viewer: Viewer,
    filters: order_lists.OrderFilters,
    page: order_lists.Page[WorkOrder],
    units: Mapping[int, str],
    tz: str,
    lang: str,
    now: datetime,
) -> Iterator[str]:
    try:
        yield BOM + to_csv([header(lang)])
        while True:
            yield to_csv(row(o, present_item(o, viewer, now), units, tz) for o in page.items)
            if page.next_cursor is None:
                return
            session.expunge_all()  # a long export must not keep every row it wrote
            page = order_lists.list_orders(
                session, actor, filters, limit=BATCH, cursor=page.next_cursor, now=now
            )
    finally:
        session.close()


def _unit_names(session: Session) -> dict[int, str]:
    return {u.id: u.name for u in session.exec(select(OrgUnit)).all() if u.id is not None}
