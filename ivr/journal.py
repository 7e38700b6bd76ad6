"""The call journal: publishes each call's life as call events and keeps the live figures.

The IVR and the ACD tell the journal what happened; it gathers the call's facts so the
`ended` event carries everything the back office and the transcription worker need. Nothing
here may fail a call: the event log spools while Redis is down, and a figure that can't be
bumped is logged and skipped.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from redis import RedisError

from hotline.callevents.figures import LiveFigures
from hotline.callevents.live import LiveCall, LiveCalls
from hotline.callevents.model import CallEvent, CallEventType, CallFacts, at_epoch
from hotline.callevents.stream import CallEventLog
from hotline.logs import event

log = logging.getLogger("hotline.journal")


class CallJournal:
    def __init__(
        self,
        events: CallEventLog,
        figures: LiveFigures | None,
        clock: Callable[[], float] = time.time,
        live: LiveCalls | None = None,
    ) -> None:
        self.events = events
        self.figures = figures
        self.live = live
        self.clock = clock
        self._facts: dict[str, CallFacts] = {}
        self._lock = threading.Lock()

    def facts(self, call_id: str) -> CallFacts:
        with self._lock:
            return self._facts.setdefault(call_id, CallFacts(started_at=self.clock()))

    def _publish(self, kind: CallEventType, call_id: str, data: Mapping[str, Any]) -> None:
        try:
            self.events.publish(CallEvent(kind, call_id, at_epoch(self.clock()), data))
        except Exception as exc:  # a full disk while spooling: log it, keep the call
            event(log, "journal.lost", level=logging.ERROR, call_id=call_id,
                  type=kind.value, error=str(exc))  # fmt: skip

    def _figure(self, bump: Callable[[LiveFigures], None]) -> None:
        if self.figures is None:
            return
        try:
            bump(self.figures)
        except RedisError as exc:
            event(log, "journal.figures_down", level=logging.WARNING, error=str(exc))

    def started(self, call_id: str, *, caller: str, sip_call_id: str, flow_id: str,
                flow_version: int) -> None:  # fmt: skip
        facts = self.facts(call_id)
        facts.caller, facts.sip_call_id = caller, sip_call_id
        facts.flow_id, facts.flow_version = flow_id, flow_version
        self._publish(CallEventType.STARTED, call_id, {"caller": caller, "flow": flow_id})

    def leaving_ivr(self, call_id: str, *, language: str, path: list[dict[str, Any]],
                    variables: Mapping[str, str]) -> None:  # fmt: skip
        """The caller goes to a person: what the seat's screen pop shows while the call runs."""
        if self.live is None:
            return
        caller = self.facts(call_id).caller
        call = LiveCall(call_id, caller, language, path, dict(variables))
        try:
            self.live.remember(call)
        except RedisError as exc:
            event(log, "journal.live_down", level=logging.WARNING, call_id=call_id, error=str(exc))

    def queued(self, call_id: str, queue: str, required: Mapping[str, int], priority: int,
               language: str | None) -> None:  # fmt: skip
        facts = self.facts(call_id)
        facts.queue, facts.required, facts.priority = queue, dict(required), priority
        facts.queued_at = facts.queued_at or self.clock()
        at = self.clock()
        self._figure(lambda f: f.queued(queue, at))
        self._publish(CallEventType.QUEUED, call_id, {"queue": queue, "required": dict(required),
                      "priority": priority, "language": language})  # fmt: skip

    def offered(self, call_id: str, seat: str) -> None:
        self._publish(CallEventType.OFFERED, call_id, {"agent": seat})

    def recording(self, call_id: str, paths: Mapping[str, str]) -> None:
        self.facts(call_id).recordings.update(paths)

    def answered(self, call_id: str, seat: str, queue: str, enqueued_at: float) -> None:
        """From the seat's channel; the caller's facts may live in another server process."""
        now = self.clock()
        wait_s = round(max(0.0, now - enqueued_at), 3)
        with self._lock:
            facts = self._facts.get(call_id)
        if facts is not None:
            facts.agent, facts.answered_at = seat, now
        self._figure(lambda f: f.answered(queue, now, wait_s))
        self._publish(CallEventType.ANSWERED, call_id,
                      {"agent": seat, "queue": queue, "wait_s": wait_s})  # fmt: skip

    def seat_kept(self, call_id: str, seat: str) -> None:
        """The caller's side learns the seat answered (when `answered` ran elsewhere)."""
        facts = self.facts(call_id)
        facts.agent = seat
        facts.answered_at = facts.answered_at or self.clock()

    def abandoned(self, call_id: str, queue: str) -> None:
        self.facts(call_id).abandoned = True
        at = self.clock()
        self._figure(lambda f: f.abandoned(queue, at))
        self._publish(CallEventType.ABANDONED, call_id, {"queue": queue})

    def transferred(self, call_id: str, data: Mapping[str, Any]) -> None:
        self.facts(call_id).transfers.append(dict(data))
        self._publish(CallEventType.TRANSFERRED, call_id, data)

    def message_left(self, call_id: str, path: str) -> None:
        self.facts(call_id).message = path

    def callback_requested(self, call_id: str) -> None:
        self.facts(call_id).callback_requested = True

    def ended(self, call_id: str, *, result: str, language: str, path: list[dict[str, Any]],
              variables: Mapping[str, str]) -> None:  # fmt: skip
        with self._lock:
            facts = self._facts.pop(call_id, None) or CallFacts(started_at=self.clock())
        facts.language, facts.variables = language, dict(variables)
        self._publish(CallEventType.ENDED, call_id, facts.as_data(self.clock(), result, path))
