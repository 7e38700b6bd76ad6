"""The per-call record: the path a call took through the IVR, for `hotline call` and orders."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Column, Text
from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel, col, func, select


class CallRecord(SQLModel, table=True):
    __tablename__ = "call_record"

    uniqueid: str = Field(primary_key=True, max_length=64)
    sip_call_id: str = Field(default="", index=True, max_length=255)
    caller: str = Field(default="", max_length=32, index=True)  # repeat callers
    flow_id: str = Field(default="", max_length=64)
    flow_version: int = 0
    language: str = Field(default="", max_length=8)
    result: str = Field(default="", max_length=32)
    started_at: datetime
    ended_at: datetime | None = None
    path_json: str = Field(default="[]", sa_column=Column(Text, nullable=False))

    @property
    def path(self) -> list[dict[str, Any]]:
        return list(json.loads(self.path_json))

    def as_dict(self) -> dict[str, Any]:
        return {
            "uniqueid": self.uniqueid,
            "sip_call_id": self.sip_call_id,
            "caller": self.caller,
            "flow": {"id": self.flow_id, "version": self.flow_version},
            "language": self.language,
            "result": self.result,
            "started_at": self.started_at.isoformat(),
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
            "path": self.path,
        }


def now_utc() -> datetime:
    return datetime.now(UTC)


def save(engine: Engine, record: CallRecord) -> None:
    with Session(engine) as session:
        session.merge(record)
        session.commit()


def find_by_sip_call_id(engine: Engine, sip_call_id: str) -> CallRecord | None:
    with Session(engine) as session:
        query = select(CallRecord).where(CallRecord.sip_call_id == sip_call_id)
        return session.exec(query).first()


def get(engine: Engine, uniqueid: str) -> CallRecord | None:
    with Session(engine) as session:
        return session.get(CallRecord, uniqueid)


def earlier_calls(engine: Engine, caller: str, days: int, now: datetime | None = None) -> int:
    """How often this number called in the last `days` days (repeat callers go first)."""
    if not caller:
        return 0  # withheld numbers are nobody's history
    since = (now or now_utc()) - timedelta(days=days)
    query = select(func.count()).where(
        CallRecord.caller == caller, col(CallRecord.started_at) >= since
    )
    with Session(engine) as session:
        return int(session.exec(query).one())
