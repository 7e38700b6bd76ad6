"""Reading the audit log of sensitive views (admins and supervisors)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from backoffice.api.deps import CurrentUser, SessionDep
from backoffice.models import AuditLog, AuditLogPublic
from backoffice.services import audit

router = APIRouter(prefix="/audit-log", tags=["audit log"])


@router.get("", response_model=list[AuditLogPublic])
def recent(
    session: SessionDep, user: CurrentUser, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[AuditLog]:
    """The latest entries, newest first."""
    return audit.recent(session, user, limit)
