"""Allocating work-order numbers: one counter row per local day, bumped atomically."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from backoffice.domain.numbering import MAX_SEQ, format_number
from backoffice.errors import Conflict
from backoffice.models import OrderSequence


def local_day(now: datetime, tz: str) -> date:
    """The day on the centre's calendar: an order taken at 07:30 Beijing time is dated today."""
    return now.astimezone(ZoneInfo(tz)).date()


def allocate(session: Session, day: date) -> str:
    """The next number of ``day``, inside the caller's transaction.

    One INSERT ... ON CONFLICT DO UPDATE ... RETURNING (SQLite 3.35+, PostgreSQL 9.5+): the row
    lock (PostgreSQL) or the write lock (SQLite) it takes is held until the order itself is
    committed, so concurrent creators queue for a moment and never share a number; a rolled
    back creation gives its number back.
    """
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else pg_insert
    statement = (
        insert(OrderSequence)
        .values(day=day, last_seq=1)
        .on_conflict_do_update(
            index_elements=["day"], set_={"last_seq": col(OrderSequence.last_seq) + 1}
        )
        .returning(col(OrderSequence.last_seq))
    )
    seq = int(session.exec(statement).scalar_one())
    if seq > MAX_SEQ:
        raise Conflict(f"all {MAX_SEQ} work-order numbers of {day.isoformat()} are taken")
    return format_number(day, seq)
