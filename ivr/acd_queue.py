"""The IVR's queue node on the skill-based ACD: hold music, instant offer, ring the seat, record.

The call's AGI thread enqueues the caller in Redis and blocks on the call's offer list
(BLPOP), so a match made anywhere (a call arriving, a seat becoming ready) wakes it at once.
Between offers it looks at the AGI socket every `poll_s` for Asterisk's HANGUP, so a caller
who gives up leaves the queue within that time.
"""

from __future__ import annotations

import logging
import select
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from redis import RedisError

from acd.model import AgentState, ReleaseOutcome, WaitingCall
from acd.priority import PriorityRules, caller_priority
from acd.store import AcdStore
from hotline.logs import event
from ivr.agi import ChannelGone
from ivr.fastagi import AgiCall
from ivr.flow import Handoff, Outcome
from ivr.handoffs import to_queue
from ivr.journal import CallJournal
from ivr.session import DialplanTransfer

log = logging.getLogger("hotline.acd")

ANSWERED_ROUTE = "seat-answered"
ANSWERED_CONTEXT = "hotline-seat-answered"
_DIAL_GONE = frozenset({"CANCEL"})
_LEGS = {"mixed": "", "caller": "-caller", "agent": "-agent"}


@dataclass(frozen=True)
class QueuePolicy:
    ring_timeout_s: int = 20
    poll_s: float = 0.5
    max_wait_s: float = 600.0


class WrapUp:
    """Seats leave wrap-up by themselves after the queue's wrap-up time, then take the next call."""

    def __init__(self, store: AcdStore, seconds: Callable[[str], float]) -> None:
        self.store = store
        self.seconds = seconds

    def start(self, seat: str, queue: str) -> None:
        timer = threading.Timer(self.seconds(queue), self.end, args=(seat,))
        timer.daemon = True
        timer.start()

    def end(self, seat: str) -> None:
        agent = self.store.get_agent(seat)
        if agent is not None and agent.state is AgentState.WRAP_UP:
            self.store.set_state(seat, AgentState.AVAILABLE)
            self.store.try_match_agent(seat)


class AcdQueue:
    """The `queue` handoff: answered, timeout (max wait) or the caller hangs up."""

    def __init__(
        self,
        store: AcdStore,
        recordings_dir: Path,
        wrap_up: WrapUp,
        policy: QueuePolicy,
        journal: CallJournal,
        history: Callable[[str], int] | None = None,
        priority_rules: PriorityRules | None = None,
    ) -> None:
        self.store = store
        self.journal = journal
        self.history = history
        self.priority_rules = priority_rules or PriorityRules()
        self.recordings = recordings_dir / "calls"
        self.wrap_up = wrap_up
        self.policy = policy

    def __call__(self, call: AgiCall, handoff: Handoff) -> Outcome | DialplanTransfer:
        waiting = waiting_call(call.uniqueid, handoff, time.time(), self._priority(handoff))
        try:
            self.store.enqueue(waiting)
            event(log, "acd.queued", uniqueid=call.uniqueid, queue=waiting.queue,
                  required=dict(waiting.required))  # fmt: skip
            self.journal.queued(waiting.call_id, waiting.queue, waiting.required,
                                waiting.priority, waiting.language)  # fmt: skip
            self.store.try_match_call(waiting.call_id)
            return self._wait(call, waiting)
        except ChannelGone:
            # A caller who hung up after talking was already finished; only waiting or ringing
            # callers are abandoned.
            if self.store.remove_call(waiting.call_id):
                event(log, "acd.abandoned", uniqueid=call.uniqueid, queue=waiting.queue)
                self.journal.abandoned(waiting.call_id, waiting.queue)
            raise
        except RedisError as exc:
            # The ACD is down: Asterisk's own queue still rings every seat; nobody is lost.
            event(log, "acd.down", level=logging.ERROR, uniqueid=call.uniqueid, error=str(exc))
            call.agi.execute("SET MUSIC", "off")
            return to_queue(call, handoff)

    def _priority(self, handoff: Handoff) -> int:
        caller = handoff.variables.get("caller", "")
        try:
            earlier = self.history(caller) if self.history is not None else 0
        except Exception as exc:  # no history is no reason to keep a caller out of the queue
            event(log, "acd.history_failed", level=logging.WARNING, error=str(exc))
            earlier = 0
        urgent = handoff.variables.get("urgent")
        base = base_priority(handoff)
        rules = self.priority_rules
        return caller_priority(base, earlier_calls=earlier, urgent=urgent, rules=rules)

    def _wait(self, call: AgiCall, waiting: WaitingCall) -> Outcome:
        deadline = time.monotonic() + self.policy.max_wait_s
        call.agi.execute("SET MUSIC", "on", "default")
        while time.monotonic() < deadline:
            seat = self.store.wait_for_offer(waiting.call_id, self.policy.poll_s)
            if seat is None:
                _raise_if_hung_up(call)
                continue
            if self._ring(call, waiting, seat):
                return Outcome("answered")
            call.agi.execute("SET MUSIC", "on", "default")
        self.store.remove_call(waiting.call_id)
        return Outcome("timeout")

    def _ring(self, call: AgiCall, waiting: WaitingCall, seat: str) -> bool:
        call.agi.execute("SET MUSIC", "off")
        event(log, "acd.offered", uniqueid=call.uniqueid, seat=seat)
        self.journal.offered(call.uniqueid, seat)
        self._record(call)
        try:
            call.agi.appexec("Dial", self._dial_args(call.uniqueid, seat))
            status = str(call.agi.get_variable("DIALSTATUS"))
        finally:
            answered = self._settle(waiting, seat)
        if not answered and status in _DIAL_GONE:
            raise ChannelGone("the caller hung up while the seat was ringing")
        return answered

    def _dial_args(self, uniqueid: str, seat: str) -> str:
        # 'g': come back to the AGI when the seat hangs up; 'U': tell the ACD when it answers.
        gosub = f"{ANSWERED_CONTEXT}^{uniqueid}^{seat}"
        return f"PJSIP/{seat},{self.policy.ring_timeout_s},gU({gosub})"

    def _record(self, call: AgiCall) -> None:
        # The caller's and the seat's audio in separate files: transcription tells them apart.
        base = self.recordings / call.uniqueid
        legs = {leg: f"{base}{suffix}.wav" for leg, suffix in _LEGS.items()}
        options = f"{legs['mixed']},r({legs['caller']})t({legs['agent']})"
        call.agi.appexec("MixMonitor", options)
        self.journal.recording(call.uniqueid, legs)

    def _settle(self, waiting: WaitingCall, seat: str) -> bool:
        """After Dial: answered calls finish (wrap-up); unanswered offers go back in line."""
        agent = self.store.get_agent(seat)
        if agent is not None and agent.state is AgentState.ON_CALL:
            self.store.finish(waiting.call_id, seat)
            self.wrap_up.start(seat, waiting.queue)
            self.journal.seat_kept(waiting.call_id, seat)
            event(log, "acd.finished", uniqueid=waiting.call_id, seat=seat)
            return True
        self.store.release(waiting.call_id, seat, ReleaseOutcome.NO_ANSWER)
        event(log, "acd.no_answer", level=logging.WARNING, uniqueid=waiting.call_id, seat=seat)
        # Back in its place: offer it to whoever is free now, and the seat (if not paused) to
        # whoever waits; a match lands on the offer list this call's wait is blocked on.
        self.store.try_match_call(waiting.call_id)
        self.store.try_match_agent(seat)
        return False


def seat_answered(store: AcdStore, journal: CallJournal) -> Callable[[AgiCall], None]:
    """FastAGI route run on the seat's channel when it answers (Dial's U option)."""

    def on_answer(call: AgiCall) -> None:
        caller_id, seat = call.env.get("agi_arg_1", ""), call.env.get("agi_arg_2", "")
        queued = store.get_call(caller_id)
        store.set_state(seat, AgentState.ON_CALL)
        event(log, "acd.answered", uniqueid=caller_id, seat=seat)
        if queued is not None:
            journal.answered(caller_id, seat, queued.call.queue, queued.call.enqueued_at)

    return on_answer


def waiting_call(
    call_id: str, handoff: Handoff, now: float, priority: int | None = None
) -> WaitingCall:
    params = handoff.params
    skills = params.get("skills") or ["operator"]
    names = [str(s) for s in skills] if isinstance(skills, list) else [str(skills)]
    language = None if handoff.language == "zh" else f"{handoff.language}"
    if priority is None:
        priority = base_priority(handoff)
    return WaitingCall(
        call_id=call_id,
        queue=str(params.get("queue", "operator")),
        required={name: int(params.get("min_level", 1) or 1) for name in names},
        priority=priority,
        language=language,
        enqueued_at=now,
    )


def base_priority(handoff: Handoff) -> int:
    priority = handoff.params.get("priority", 0)
    return priority if isinstance(priority, int) else 0


def _raise_if_hung_up(call: AgiCall) -> None:
    """Asterisk writes HANGUP on the AGI socket when the caller leaves; peek for it."""
    stream = call.agi.stdin
    # poll, not select: a busy server holds more than 1024 sockets, select's limit.
    poller = select.poll()
    poller.register(stream.fileno(), select.POLLIN)
    if poller.poll(0):
        line = stream.readline()
        if not line or line.strip() == "HANGUP":
            raise ChannelGone("the caller hung up while waiting")
