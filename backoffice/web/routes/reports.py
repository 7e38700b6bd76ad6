"""Reports (/reports) for supervisors and admins: figures, charts, staffing, CSV export.

The page is a GET form (nothing changes, so no CSRF token); a bad period or target is shown
inline beside the form with status 422, and the CSV of the same table says why in its 422.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from backoffice.access import Viewer
from backoffice.api.deps import BackofficeDep, SessionDep
from backoffice.domain.lifecycle import Role
from backoffice.errors import Forbidden, Invalid, NotFound
from backoffice.services import call_stats
from backoffice.web.i18n import Translate, language_of, translator
from backoffice.web.render import render
from backoffice.web.security import PageViewer
from hotline.reports import charts, staffing, tables
from hotline.reports.facts import MAX_NAME, BadRange, parse_period
from hotline.reports.figures import Report, build

router = APIRouter()
REPORT_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN})
DEFAULT_DAYS = 7
DEFAULT_SL_PERCENT = "80"
DEFAULT_ANSWER_S = "15"  # the hotline's 15-second answer target


@dataclass(frozen=True)
class Query:
    first: str
    last: str
    queue: str
    sl: str  # target service level, percent
    answer: str  # target answer time, seconds


class Refusal(Exception):
    """Input the report cannot use; `key` is the catalogue key of the message."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _require(viewer: Viewer) -> None:
    if viewer.role not in REPORT_ROLES:
        raise Forbidden(f"a {viewer.role} may not open the reports")


def _query(request: Request, timezone: str) -> Query:
    args = request.query_params
    today = datetime.now(ZoneInfo(timezone)).date()
    return Query(
        first=args.get("first", (today - timedelta(days=DEFAULT_DAYS - 1)).isoformat())[:32],
        last=args.get("last", today.isoformat())[:32],
        queue=args.get("queue", "")[:MAX_NAME],
        sl=args.get("sl", DEFAULT_SL_PERCENT)[:16],
        answer=args.get("answer", DEFAULT_ANSWER_S)[:16],
    )


def _target(query: Query) -> staffing.Target:
    try:
        percent, answer_s = float(query.sl), float(query.answer)
    except ValueError:
        raise Refusal("reports.error.target_number") from None
    if not (math.isfinite(percent) and math.isfinite(answer_s)):
        raise Refusal("reports.error.target_number")
    try:
        return staffing.Target(service_level=percent / 100, answer_s=answer_s)
    except staffing.BadTarget as exc:
        raise Refusal(f"reports.error.{exc.code}") from None


def _report(session: Any, query: Query, timezone: str, wrap_up_s: float) -> Report:
    try:
        period = parse_period(query.first, query.last, timezone)
    except BadRange as exc:
        raise Refusal(f"reports.error.{exc.code}") from None
    queue = query.queue or None
    return build(call_stats.facts(session, period, queue), period, wrap_up_s=wrap_up_s,
                 queue=queue)  # fmt: skip


def _charts(report: Report, t: Translate) -> list[Markup]:
    hours = [(f"{h:02d}", x) for h, x in enumerate(report.by_hour)]
    days = [(d.strftime("%m-%d"), x) for d, x in report.by_day.items()]
    svg = [
        charts.bar_chart(
            t("reports.chart.calls_by_hour"), [charts.Point(h, x.calls) for h, x in hours]
        ),
        charts.line_chart(
            t("reports.chart.sl_by_hour"), [charts.Point(h, x.service_level(15)) for h, x in hours]
        ),
        charts.bar_chart(
            t("reports.chart.calls_by_day"), [charts.Point(d, x.calls) for d, x in days]
        ),
        charts.line_chart(
            t("reports.chart.connection_by_day"),
            [charts.Point(d, x.connection_rate) for d, x in days],
        ),
    ]
    # The charts module escapes every label and title it writes into the SVG.
    return [Markup(s) for s in svg]


def _tables(report: Report, target: staffing.Target) -> dict[str, tables.Table]:
    return {
        "hourly": tables.hourly(report),
        "daily": tables.daily(report),
        "queues": tables.queues(report),
        "agents": tables.agents(report),
        "staffing": tables.staffing(staffing.by_hour(report, target)),
    }


@router.get("/reports")
def reports_page(
    request: Request, backoffice: BackofficeDep, session: SessionDep, viewer: PageViewer
) -> Response:
    _require(viewer)
    settings = backoffice.settings
    query = _query(request, settings.timezone)
    context: dict[str, Any] = {"q": query, "queues": call_stats.queues(session),
                               "error": None, "report": None}  # fmt: skip
    try:
        target = _target(query)
        report = _report(session, query, settings.timezone, settings.acd_wrap_up_seconds)
    except Refusal as refusal:
        context["error"] = refusal.key
        return render(request, "reports.html", context, status=422)
    t = translator(language_of(request))
    context.update(report=report, target=target, charts=_charts(report, t),
                   tables=_tables(report, target), cell=tables.cell_text,
                   csv_query=request.url.query)  # fmt: skip
    return render(request, "reports.html", context)


@router.get("/reports/{name}.csv")
def reports_csv(
    name: str, request: Request, backoffice: BackofficeDep, session: SessionDep,
    viewer: PageViewer,
) -> Response:  # fmt: skip
    _require(viewer)
    if name not in tables.TABLES:
        raise NotFound(f"no report table {name[:32]!r}")
    settings = backoffice.settings
    query = _query(request, settings.timezone)
    t = translator(language_of(request))
    try:
        target = _target(query)
        report = _report(session, query, settings.timezone, settings.acd_wrap_up_seconds)
    except Refusal as refusal:
        raise Invalid(t(refusal.key)) from None
    table = _tables(report, target)[name]
    body = tables.to_csv(table, lambda column: t(f"reports.col.{column}"))
    filename = f"hotline-{name}-{report.period.first}-{report.period.last}.csv"
    return Response(
        body.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
