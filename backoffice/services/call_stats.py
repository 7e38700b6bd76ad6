"""Call figures for the reports: kept from each `ended` event, read back by period.

One row per call id; a re-delivered event rewrites the same row, so the intake's at-least-once
delivery never counts a call twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from backoffice.errors import Invalid
from backoffice.models import CallStat
from hotline.reports.facts import BadFacts, CallFact, Period, from_ended


def record(session: Session, call_id: str, data: Mapping[str, Any]) -> CallStat:
    """Keep a finished call's figures; Invalid when its `ended` data cannot be counted."""
    try:
        fact = from_ended(call_id, data)
    except BadFacts as exc:
        raise Invalid(f"call {call_id[:128]!r}: {exc}") from None
    for _ in range(2):  # a second try if another intake inserted the same call meanwhile
        row = session.exec(select(CallStat).where(CallStat.call_id == call_id)).first()
        row = _filled(row or CallStat(call_id=call_id, started_at=fact.started_at), fact)
        session.add(row)
        try:
            session.commit()
            return row
        except IntegrityError:
            session.rollback()
    raise Invalid(f"call {call_id[:128]!r} could not be stored")  # pragma: no cover


def _filled(row: CallStat, fact: CallFact) -> CallStat:
    row.started_at, row.queue, row.agent = fact.started_at, fact.queue, fact.agent
    row.answered, row.abandoned = fact.answered, fact.abandoned
    row.wait_s, row.talk_s = fact.wait_s, fact.talk_s
    return row


def facts(session: Session, period: Period, queue: str | None = None) -> list[CallFact]:
    """The calls that started in the period (local days), oldest first."""
    start, end = period.utc_bounds()
    query = select(CallStat).where(
        col(CallStat.started_at) >= start, col(CallStat.started_at) < end
    )
    if queue is not None:
        query = query.where(CallStat.queue == queue)
    rows = session.exec(query.order_by(col(CallStat.started_at), col(CallStat.id)))
    return [_fact(r) for r in rows]


def _fact(row: CallStat) -> CallFact:
    return CallFact(row.call_id, row.started_at, row.queue, row.agent, row.answered,
                    row.abandoned, row.wait_s, row.talk_s)  # fmt: skip


def queues(session: Session) -> list[str]:
    """Every queue a call has reached, for the report's filter."""
    query = select(CallStat.queue).where(col(CallStat.queue).is_not(None)).distinct()
    return sorted(q for q in session.exec(query) if q)
