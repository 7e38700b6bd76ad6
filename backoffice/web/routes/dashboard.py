"""The dashboard (/dashboard): today's intake, the backlog and its deadlines, by unit."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from backoffice.api.deps import BackofficeDep, SessionDep
from backoffice.domain.lifecycle import Role
from backoffice.errors import Forbidden
from backoffice.services import dashboard
from backoffice.web.render import render
from backoffice.web.security import PageUser, PageViewer

router = APIRouter()
DASHBOARD_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN, Role.OPERATOR, Role.HANDLER})


@router.get("/dashboard")
def dashboard_page(
    request: Request,
    session: SessionDep,
    backoffice: BackofficeDep,
    user: PageUser,
    viewer: PageViewer,
) -> Response:
    if viewer.role not in DASHBOARD_ROLES:
        raise Forbidden(f"a {viewer.role} may not open the dashboard")
    figures = dashboard.dashboard(session, user, tz=backoffice.settings.timezone)
    peak = max([n for _, n in figures.by_status] + [1])
    return render(request, "dashboard.html", {"d": figures, "peak": peak})
