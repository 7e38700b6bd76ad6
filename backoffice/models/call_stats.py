"""One row per finished call with what the reports count: queue, seat, wait, talk.

Copied from the call's `ended` event by the order intake; the IVR's `call_record` has the
path a call took but not these.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field

from backoffice.models.base import BackofficeModel, UTCDateTime


class CallStat(BackofficeModel, table=True):
    __tablename__ = "call_stat"

    id: int | None = Field(default=None, primary_key=True)
    call_id: str = Field(max_length=128, unique=True)
    started_at: datetime = Field(sa_type=UTCDateTime, index=True)  # reports select by it
    queue: str | None = Field(default=None, max_length=64)
    agent: str | None = Field(default=None, max_length=64)
    answered: bool = False
    abandoned: bool = False
    wait_s: float | None = None
    talk_s: float | None = None
