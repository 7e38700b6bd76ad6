"""The audit log: who opened a confidential work order or listened to a recording, and when."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON
from sqlmodel import Field

from backoffice.models.base import BackofficeModel, UTCDateTime, enum_column, utcnow


class AuditAction(StrEnum):
    VIEW_CONFIDENTIAL_ORDER = "view_confidential_order"
    VIEW_RECORDING = "view_recording"


class AuditLog(BackofficeModel, table=True):
    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    user_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    action: AuditAction = Field(sa_type=enum_column(AuditAction))
    object_type: str = Field(max_length=32)
    object_id: str = Field(max_length=64)
    ip: str = Field(default="", max_length=64)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class AuditLogPublic(BackofficeModel):
    id: int
    at: datetime
    user_id: int | None
    action: AuditAction
    object_type: str
    object_id: str
    ip: str
    data: dict[str, Any]
