"""Writing and reading the audit log of sensitive views."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from backoffice.domain.lifecycle import Role
from backoffice.errors import Forbidden
from backoffice.models import AuditAction, AuditLog, User

AUDIT_READERS = frozenset({Role.ADMIN, Role.SUPERVISOR})


def record(
    session: Session,
    user_id: int | None,
    action: AuditAction,
    object_type: str,
    object_id: str,
    *,
    ip: str = "",
    data: dict[str, Any] | None = None,
) -> None:
    """Add an entry to the caller's transaction; it is committed with what it records."""
    session.add(
        AuditLog(
            user_id=user_id,
            action=action,
            object_type=object_type,
            object_id=object_id,
            ip=ip[:64],
            data=data or {},
        )
    )


def recent(session: Session, actor: User, limit: int = 100) -> list[AuditLog]:
    if actor.role not in AUDIT_READERS:
        raise Forbidden("only admins and supervisors read the audit log")
    query = select(AuditLog).order_by(col(AuditLog.id).desc()).limit(limit)
    return list(session.exec(query).all())
