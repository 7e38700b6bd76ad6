"""The IVR's handoff adapters that exist so far: queue (dialplan), message, callback request."""

from __future__ import annotations

import logging
import re
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel

from hotline.logs import event
from ivr import channel_vars as cv
from ivr.callrecord import now_utc
from ivr.fastagi import AgiCall
from ivr.flow import Handoff, Outcome
from ivr.journal import CallJournal
from ivr.session import DialplanTransfer, HandoffHandler

log = logging.getLogger("hotline.ivr")

OPERATOR_QUEUE = "operator"
_QUEUE_NAME = re.compile(r"^[a-z][a-z_]{0,31}$")
# A recording shorter than this holds a click or a breath, not a message.
_MIN_MESSAGE_BYTES = 8000


class CallbackRequest(SQLModel, table=True):
    """A caller asked to be called back instead of waiting (the ACD works through these)."""

    __tablename__ = "callback_request"

    id: int | None = Field(default=None, primary_key=True)
    uniqueid: str = Field(index=True, max_length=64)
    caller: str = Field(max_length=32)
    queue: str = Field(default=OPERATOR_QUEUE, max_length=32)
    language: str = Field(default="", max_length=8)
    requested_at: datetime = Field(default_factory=now_utc)
    status: str = Field(default="open", max_length=16)


def to_queue(_: AgiCall, handoff: Handoff) -> DialplanTransfer:
    queue = str(handoff.params.get("queue", OPERATOR_QUEUE))
    if not _QUEUE_NAME.match(queue):
        queue = OPERATOR_QUEUE
    variables = {cv.QUEUE: queue, cv.LANGUAGE: handoff.language}
    max_wait = handoff.params.get("max_wait_s")
    if isinstance(max_wait, int) and max_wait > 0:
        variables[cv.QUEUE_TIMEOUT] = str(max_wait)
    return DialplanTransfer(result=cv.RESULT_QUEUE, variables=variables)


def to_operator(call: AgiCall, handoff: Handoff) -> DialplanTransfer:
    """Used for a handoff kind this server can't do yet: a person can always help."""
    return to_queue(
        call,
        Handoff(
            "queue", handoff.node_id, {"queue": OPERATOR_QUEUE}, handoff.language, handoff.variables
        ),
    )


def message_recorder(recordings_dir: Path, journal: CallJournal) -> HandoffHandler:
    def record_message(call: AgiCall, handoff: Handoff) -> Outcome:
        seconds = handoff.params.get("max_seconds", 120)
        limit_ms = int(seconds if isinstance(seconds, int | float) else 120) * 1000
        target = recordings_dir / "messages" / _safe_name(call.uniqueid)
        call.agi.record_file(str(target), "wav", "#", limit_ms, 0, "beep", 5)
        # Asterisk appends the format; with_suffix would cut the '.0' off a unique id.
        recorded = target.parent / f"{target.name}.wav"
        size = recorded.stat().st_size if recorded.exists() else 0
        event(log, "ivr.message", uniqueid=call.uniqueid, bytes=size)
        if size >= _MIN_MESSAGE_BYTES:
            journal.message_left(call.uniqueid, str(recorded))
        return Outcome("recorded" if size >= _MIN_MESSAGE_BYTES else "empty")

    return record_message


def callback_booker(engine: Engine, journal: CallJournal) -> HandoffHandler:
    def book_callback(call: AgiCall, handoff: Handoff) -> Outcome:
        caller = handoff.variables.get("caller", "")
        if not caller:
            return Outcome("declined")  # nobody to call back: anonymous or withheld number
        request = CallbackRequest(
            uniqueid=call.uniqueid,
            caller=caller,
            queue=str(handoff.params.get("queue", OPERATOR_QUEUE)),
            language=handoff.language,
        )
        queue = request.queue
        with Session(engine) as session:
            session.add(request)
            session.commit()
        event(log, "ivr.callback_booked", uniqueid=call.uniqueid, queue=queue)
        journal.callback_requested(call.uniqueid)
        return Outcome("booked")

    return book_callback


def _safe_name(uniqueid: str) -> str:
    return re.sub(r"[^0-9A-Za-z.]", "_", uniqueid) or "unknown"
