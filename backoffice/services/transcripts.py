"""Call transcripts: stored by call id, and copied onto the call's work order when it exists.

The transcription worker and the back office's order intake both act on the same `ended` call
event, in either order. Whichever comes second completes the pair: `store_transcript` attaches
to an order that is already there, and `prefill_order` gives a new order the stored transcript.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, select

from backoffice.domain.deadlines import Category
from backoffice.models import CallTranscript, WorkOrder, utcnow
from backoffice.models.transcripts import MAX_TRANSCRIPT

# An order's transcript field has the same limit; a longer call is cut, with a mark.
_CUT = "\n[…]"


@dataclass(frozen=True)
class TranscriptRecord:
    """What the worker learned about one call (segments and text already redacted)."""

    call_id: str
    language: str
    segments: Sequence[dict[str, Any]]
    text: str
    duration_s: float
    model: str
    category: str | None = None
    skills: Sequence[str] = ()
    matched: Sequence[str] = field(default_factory=list)
    confidence: float = 0.0


def store_transcript(
    session: Session, record: TranscriptRecord, now: datetime | None = None
) -> CallTranscript:
    """Insert or overwrite the call's row (re-delivery is harmless), then attach it."""
    now = now or utcnow()
    row = _by_call(session, record.call_id)
    if row is None:
        row = CallTranscript(call_id=record.call_id, created_at=now)
    _fill(row, record, now)
    session.add(row)
    try:
        session.commit()
    except IntegrityError:
        # Another worker stored the same call meanwhile (a taken-over job): overwrite theirs.
        session.rollback()
        row = _by_call(session, record.call_id)
        if row is None:
            raise
        _fill(row, record, now)
        session.add(row)
        session.commit()
    attach_transcript(session, record.call_id)
    return row


def attach_transcript(session: Session, call_id: str) -> WorkOrder | None:
    """Copy the call's transcript onto its work order; None when either is missing."""
    row = _by_call(session, call_id)
    order = session.exec(select(WorkOrder).where(WorkOrder.call_id == call_id)).first()
    if row is None or order is None:
        return None
    text = order_text(row)
    if order.transcript == text:
        return order
    order.transcript = text
    order.updated_at = utcnow()
    session.add(order)
    try:
        session.commit()
    except StaleDataError:
        # Someone acted on the order meanwhile; their version wins, ours is tried once more.
        session.rollback()
        session.refresh(order)
        order.transcript = text
        session.add(order)
        session.commit()
    return order


def prefill_order(session: Session, order: WorkOrder) -> None:
    """Before a call's order is first stored: its transcript, and its topic if it has none."""
    row = _by_call(session, order.call_id) if order.call_id else None
    if row is None:
        return
    if not order.transcript:
        order.transcript = order_text(row)
    if order.category is Category.OTHER and row.category in set(Category):
        order.category = Category(row.category)


def transcript_for(session: Session, call_id: str) -> CallTranscript | None:
    return _by_call(session, call_id)


def order_text(row: CallTranscript) -> str:
    """The order's transcript: the topic the IVR heard, then who said what, line by line."""
    lines = []
    if row.category:
        words = ", ".join(row.matched)
        lines.append(f"[topic: {row.category} ({row.confidence:.2f}) {words}]".replace(" ]", "]"))
    for seg in row.segments:
        lines.append(f"{seg.get('speaker', '')}: {seg.get('text', '')}")
    text = "\n".join(lines)
    if len(text) > MAX_TRANSCRIPT:
        text = text[: MAX_TRANSCRIPT - len(_CUT)] + _CUT
    return text


def _fill(row: CallTranscript, record: TranscriptRecord, now: datetime) -> None:
    row.language = record.language[:16]
    row.segments = [dict(s) for s in record.segments]
    row.text = record.text[:MAX_TRANSCRIPT]
    row.duration_s = record.duration_s
    row.category = record.category
    row.skills = list(record.skills)
    row.matched = list(record.matched)
    row.confidence = record.confidence
    row.model = record.model[:255]
    row.updated_at = now


def _by_call(session: Session, call_id: str | None) -> CallTranscript | None:
    if not call_id:
        return None
    return session.exec(select(CallTranscript).where(CallTranscript.call_id == call_id)).first()
