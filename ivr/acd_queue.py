"""The IVR's queue node on the skill-based ACD: hold music, instant offer, ring the seat, record.

The call's AGI thread enqueues the caller in Redis; a watcher thread blocks on the call's
offer list (BLPOP), so a match made anywhere (a call arriving, a seat becoming ready, an
escalation timer) lands at once. The AGI thread meanwhile listens for the caller's keys in
short WAIT FOR DIGIT slices under hold music, announces position and estimated wait, and
leaves for a seat, a kept-place callback, a message or the overflow. Nothing polls the ACD.
"""

from __future__ import annotations

import contextlib
import logging
import math
import queue
import select
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from redis import RedisError

from acd.model import AgentState, EscalationStep, QueueRules, ReleaseOutcome, WaitingCall
from acd.priority import PriorityRules, caller_priority
from acd.store import AcdStore
from acd.waiting import escalation_times, estimated_wait_s, staffed_seats, wait_minutes
from hotline.logs import event
from hotline.pbx.originate import DIALLABLE
from ivr.agi import ChannelGone
from ivr.fastagi import AgiCall
from ivr.flow import Flow, Handoff, Outcome
from ivr.flow.model import DEFAULT_QUEUE_SETTINGS, QueueSettings
from ivr.handoffs import to_queue
from ivr.journal import CallJournal
from ivr.session import DialplanTransfer

log = logging.getLogger("hotline.acd")

ANSWERED_ROUTE = "seat-answered"
ANSWERED_CONTEXT = "hotline-seat-answered"
_DIAL_GONE = frozenset({"CANCEL"})
_LEGS = {"mixed": "", "caller": "-caller", "agent": "-agent"}
# A seat that took a kept-place callback is paused with this reason until it goes ready.
CALLBACK_REASON = "callback"


@dataclass(frozen=True)
class QueuePolicy:
    ring_timeout_s: int = 20
    # How long one WAIT FOR DIGIT lasts: the most an offer waits before the seat rings.
    slice_s: float = 0.25
    # For queues whose flow settings leave them out.
    max_wait_s: float = 600.0
    wrap_up_s: float = 15.0
    # How long a caller who asked to be called back keeps a place in line.
    callback_keep_s: float = 4 * 3600.0
    # Recent conversations and waits the estimated wait is averaged over.
    recent_calls: int = 20


def queue_rules(name: str, settings: QueueSettings, wrap_up_s: float = 15.0) -> QueueRules:
    """The ACD's routing rules for a queue, from the flow's `queues` section (`wrap_up_s` when
    the settings leave it out)."""
    steps = [
        EscalationStep(step.after_s, step.min_level_delta, step.relax_to, step.any_operator)
        for step in settings.escalation
    ]
    wrap_up = wrap_up_s if settings.wrap_up_s is None else settings.wrap_up_s
    lawyers_too = not settings.lawyers_only
    return QueueRules(name, escalation=steps, lawyers_take_non_legal=lawyers_too, wrap_up_s=wrap_up)


def flow_queue_rules(flow: Flow, wrap_up_s: float = 15.0) -> dict[str, QueueRules]:
    return {name: queue_rules(name, s, wrap_up_s) for name, s in flow.queues.items()}


Speak = Callable[[str, Mapping[str, str]], str | None]
DialBack = Callable[[str, str], None]


@dataclass(frozen=True)
class QueueContext:
    """What the flow says about the caller's queue, and how to speak its prompts."""

    # None: the flow doesn't configure the queue (defaults, with the server's max wait).
    settings: QueueSettings | None = None
    # Prompt id + values -> audio path (no extension), or None when the flow lacks it.
    speak: Speak = lambda _prompt, _values: None


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


class OfferWatch:
    """Blocks on the call's offer list in its own thread; the AGI thread takes offers from it.

    Escalation timers fire at each step's time and re-match the call, so a seat the step
    admits is offered the call at that moment rather than at the next poll.
    """

    def __init__(self, store: AcdStore, call: WaitingCall, rules: QueueRules) -> None:
        self.store = store
        self.call = call
        self.offers: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"offer-{call.call_id}")  # fmt: skip
        self._timers = [
            threading.Timer(delay, self._escalate)
            for delay in escalation_times(rules, time.time() - call.enqueued_at)
        ]

    def start(self) -> OfferWatch:
        self._thread.start()
        for timer in self._timers:
            timer.daemon = True
            timer.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for timer in self._timers:
            timer.cancel()

    def take(self, timeout_s: float = 0) -> str | None:
        try:
            return self.offers.get(timeout=timeout_s) if timeout_s > 0 else self.offers.get_nowait()
        except queue.Empty:
            return None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                seat = self.store.wait_for_offer(self.call.call_id, 1.0)
            except RedisError as exc:
                event(log, "acd.watch_failed", level=logging.ERROR, error=str(exc))
                self._stop.wait(1.0)
                continue
            if seat is not None:
                self.offers.put(seat)

    def _escalate(self) -> None:
        try:
            match = self.store.try_match_call(self.call.call_id)
        except RedisError as exc:
            event(log, "acd.escalate_failed", level=logging.ERROR, error=str(exc))
            return
        event(log, "acd.escalated", uniqueid=self.call.call_id,
              seat=match.agent_id if match else None)  # fmt: skip


class RecentFigures:
    """The queue's last handle times and answered waits in Redis, for the estimated wait."""

    def __init__(self, store: AcdStore, keep: int) -> None:
        self.store = store
        self.keep = keep

    def add(self, queue_name: str, kind: str, seconds: float) -> None:
        key = self.store.keys.recent(queue_name, kind)
        pipe = self.store.client.pipeline(transaction=False)
        pipe.lpush(key, f"{seconds:.1f}")
        pipe.ltrim(key, 0, self.keep - 1)
        pipe.execute()

    def get(self, queue_name: str, kind: str) -> list[float]:
        raw = cast("list[str]", self.store.client.lrange(self.store.keys.recent(queue_name, kind),
                                                          0, self.keep - 1))  # fmt: skip
        return [float(value) for value in raw]

    def estimate(self, call: WaitingCall) -> tuple[int, float | None] | None:
        """(position, estimated seconds) of a waiting call, or None if it is not waiting."""
        client = self.store.client
        member = client.hget(self.store.keys.call(call.call_id), "member")
        rank = None if member is None else client.zrank(self.store.keys.queue(call.queue), member)
        if rank is None:
            return None
        position = int(cast("int", rank)) + 1
        seats = [agent for agent in map(self.store.get_agent, self._seat_ids()) if agent]
        staffed = staffed_seats(seats, call, self.store.rules(call.queue))
        handle, waits = self.get(call.queue, "handle"), self.get(call.queue, "wait")
        return position, estimated_wait_s(position, handle, waits, staffed)

    def _seat_ids(self) -> list[str]:
        return cast("list[str]", self.store.client.hkeys(self.store.keys.profiles()))


class AcdQueue:
    """The `queue` handoff: answered, overflow/timeout (max wait), a kept-place callback, a
    message, or the caller hangs up."""

    def __init__(
        self,
        store: AcdStore,
        recordings_dir: Path,
        wrap_up: WrapUp,
        policy: QueuePolicy,
        journal: CallJournal,
        history: Callable[[str], int] | None = None,
        priority_rules: PriorityRules | None = None,
        dial_back: DialBack | None = None,
    ) -> None:
        self.store = store
        self.journal = journal
        self.history = history
        self.priority_rules = priority_rules or PriorityRules()
        self.recordings = recordings_dir / "calls"
        self.wrap_up = wrap_up
        self.policy = policy
        self.dial_back = dial_back
        self.recent = RecentFigures(store, policy.recent_calls)

    def __call__(
        self, call: AgiCall, handoff: Handoff, context: QueueContext | None = None
    ) -> Outcome | DialplanTransfer:
        context = context or QueueContext()
        waiting = waiting_call(call.uniqueid, handoff, time.time(), self._priority(handoff))
        watch: OfferWatch | None = None
        try:
            self.store.enqueue(waiting)
            event(log, "acd.queued", uniqueid=call.uniqueid, queue=waiting.queue,
                  required=dict(waiting.required))  # fmt: skip
            self.journal.queued(waiting.call_id, waiting.queue, waiting.required,
                                waiting.priority, waiting.language)  # fmt: skip
            watch = OfferWatch(self.store, waiting, self.store.rules(waiting.queue)).start()
            self.store.try_match_call(waiting.call_id)
            return Waiting(self, call, handoff, waiting, watch, context).run()
        except ChannelGone:
            # A caller who hung up after talking was already finished; only waiting or ringing
            # callers are abandoned.
            if self._leave(waiting, watch):
                event(log, "acd.abandoned", uniqueid=call.uniqueid, queue=waiting.queue)
                self.journal.abandoned(waiting.call_id, waiting.queue)
            raise
        except RedisError as exc:
            # The ACD is down: Asterisk's own queue still rings every seat; nobody is lost.
            event(log, "acd.down", level=logging.ERROR, uniqueid=call.uniqueid, error=str(exc))
            if watch is not None:
                watch.stop()
            call.agi.execute("SET MUSIC", "off")
            return to_queue(call, handoff)

    def _leave(self, waiting: WaitingCall, watch: OfferWatch | None) -> bool:
        """Take the call out of line; a seat already offered it is free for the next caller."""
        if watch is not None:
            watch.stop()
        removed = bool(self.store.remove_call(waiting.call_id))
        seat = watch.take() if watch is not None else None
        if seat is not None:
            self.store.try_match_agent(seat)
        return removed

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
            answered_at = self.store.client.hget(self.store.keys.agent(seat), "state_since")
            self.store.finish(waiting.call_id, seat)
            self.wrap_up.start(seat, waiting.queue)
            self.journal.seat_kept(waiting.call_id, seat)
            event(log, "acd.finished", uniqueid=waiting.call_id, seat=seat)
            self._note_figures(waiting, answered_at)
            return True
        self.store.release(waiting.call_id, seat, ReleaseOutcome.NO_ANSWER)
        event(log, "acd.no_answer", level=logging.WARNING, uniqueid=waiting.call_id, seat=seat)
        # Back in its place: offer it to whoever is free now, and the seat (if not paused) to
        # whoever waits; a match lands on the offer list this call's watcher is blocked on.
        self.store.try_match_call(waiting.call_id)
        self.store.try_match_agent(seat)
        return False

    def _note_figures(self, waiting: WaitingCall, answered_at: object) -> None:
        """The handle time (talk + wrap-up) and wait feed the next callers' estimated wait."""
        try:
            answered = float(str(answered_at))
        except ValueError:
            return
        wrap_up_s = self.store.rules(waiting.queue).wrap_up_s
        try:
            self.recent.add(waiting.queue, "handle", time.time() - answered + wrap_up_s)
            self.recent.add(waiting.queue, "wait", max(0.0, answered - waiting.enqueued_at))
        except RedisError as exc:  # a lost figure costs an estimate, never the call
            event(log, "acd.figures_failed", level=logging.WARNING, error=str(exc))


class Waiting:
    """One caller's time in line, run in the call's AGI thread until it leaves the queue."""

    def __init__(
        self,
        acd: AcdQueue,
        call: AgiCall,
        handoff: Handoff,
        waiting: WaitingCall,
        watch: OfferWatch,
        context: QueueContext,
    ) -> None:
        self.acd, self.call, self.handoff = acd, call, handoff
        self.waiting, self.watch, self.context = waiting, watch, context
        self.settings = context.settings or DEFAULT_QUEUE_SETTINGS
        self.max_wait_s = self.settings.max_wait_s or acd.policy.max_wait_s
        self.keys = "".join(k for k in (self.settings.callback_key, self.settings.message_key) if k)

    def run(self) -> Outcome:
        started = time.monotonic()
        deadline = started + self.max_wait_s
        every = self.settings.announce_every_s
        next_announce = started + every if every else math.inf
        self._music(on=True)
        while True:
            seat = self._next_offer()
            if seat is not None:
                if self.acd._ring(self.call, self.waiting, seat):
                    self.watch.stop()
                    return Outcome("answered")
                self._music(on=True)
                continue
            now = time.monotonic()
            if now >= deadline:
                return self._overflow()
            key = ""
            if now >= next_announce:
                key = self._announce()
                next_announce = time.monotonic() + (every or math.inf)
            key = key or self._listen(min(self.acd.policy.slice_s, deadline - now))
            outcome = self._on_key(key) if key else None
            if outcome is not None:
                return outcome

    def _music(self, *, on: bool) -> None:
        if on:
            self.call.agi.execute("SET MUSIC", "on", "default")
        else:
            self.call.agi.execute("SET MUSIC", "off")

    def _next_offer(self) -> str | None:
        if self.keys:
            return self.watch.take()
        # No keys to read: wait on the offer itself, so the seat rings the moment it is
        # matched, and look for Asterisk's HANGUP between waits.
        seat = self.watch.take(timeout_s=self.acd.policy.slice_s)
        if seat is None:
            _raise_if_hung_up(self.call)
        return seat

    def _listen(self, seconds: float) -> str:
        if not self.keys:
            return ""
        key = str(self.call.agi.wait_for_digit(max(1, int(seconds * 1000))))
        return key if key in self.keys else ""

    def _announce(self) -> str:
        """Position, then the estimated wait when recent figures allow one; a key cuts in."""
        try:
            found = self.acd.recent.estimate(self.waiting)
        except RedisError as exc:
            event(log, "acd.estimate_failed", level=logging.WARNING, error=str(exc))
            return ""
        if found is None:
            return ""  # being offered right now: the seat's ring is the news
        position, seconds = found
        values = {"position": str(position)}
        prompts = [self.settings.position_prompt]
        if seconds is not None and self.settings.wait_prompt is not None:
            values["wait_minutes"] = str(wait_minutes(seconds))
            prompts.append(self.settings.wait_prompt)
        event(log, "acd.announced", uniqueid=self.waiting.call_id, position=position,
              wait_s=None if seconds is None else round(seconds))  # fmt: skip
        self._music(on=False)
        try:
            for prompt_id in prompts:
                path = self.context.speak(prompt_id, values)
                key = str(self.call.agi.stream_file(path, self.keys)) if path else ""
                if key:
                    return key if key in self.keys else ""
            return ""
        finally:
            self._music(on=True)

    def _on_key(self, key: str) -> Outcome | None:
        if key == self.settings.callback_key:
            return self._keep_place()
        if key == self.settings.message_key:
            self._music(on=False)
            self.acd._leave(self.waiting, self.watch)
            event(log, "acd.left_for_message", uniqueid=self.waiting.call_id)
            return Outcome("message")
        return None

    def _keep_place(self) -> Outcome | None:
        number = self.handoff.variables.get("caller", "")
        if self.acd.dial_back is None or not DIALLABLE.match(number):
            return None  # nobody to call back (withheld number): the caller keeps waiting
        self._music(on=False)
        KeptCallback(self.acd, self.waiting, self.watch, number).start()
        self.acd.journal.callback_requested(self.waiting.call_id)
        event(log, "acd.callback_kept", uniqueid=self.waiting.call_id, queue=self.waiting.queue)
        return Outcome("callback", {"callback_kept": "1"})

    def _overflow(self) -> Outcome:
        self._music(on=False)
        self.acd._leave(self.waiting, self.watch)
        event(log, "acd.max_wait", uniqueid=self.waiting.call_id, queue=self.waiting.queue)
        to_overflow = self.settings.overflow is not None or "overflow" in self.handoff.outcomes
        return Outcome("overflow" if to_overflow else "timeout")


class KeptCallback:
    """A caller who hung up for a callback keeps their place; when it comes to the front the
    matched seat's phone rings, and answering it dials the caller (AMI Originate)."""

    MAX_ATTEMPTS = 3

    def __init__(self, acd: AcdQueue, waiting: WaitingCall, watch: OfferWatch, number: str) -> None:
        self.acd, self.waiting, self.watch, self.number = acd, waiting, watch, number
        self.failures = 0

    def start(self) -> None:
        threading.Thread(
            target=self.run, daemon=True, name=f"callback-{self.waiting.call_id}"
        ).start()

    def run(self) -> None:
        keep_s = self.acd.policy.callback_keep_s
        deadline = time.monotonic() + keep_s
        try:
            self.acd.store.keep_callback(self.waiting.call_id, time.time() + keep_s)
            while (left := deadline - time.monotonic()) > 0:
                seat = self.watch.take(timeout_s=min(left, 60.0))
                if seat is not None and self._offer(seat):
                    return
            event(log, "acd.callback_expired", level=logging.WARNING, uniqueid=self.waiting.call_id)
            self.acd.store.remove_call(self.waiting.call_id)
        except RedisError as exc:
            event(log, "acd.callback_failed", level=logging.ERROR, uniqueid=self.waiting.call_id,
                  error=str(exc))  # fmt: skip
        finally:
            self.watch.stop()
            with contextlib.suppress(RedisError):
                self.acd.store.drop_kept_callback(self.waiting.call_id)

    def _offer(self, seat: str) -> bool:
        """True once the call is handed to the seat (or given up after repeated failures)."""
        store, call_id = self.acd.store, self.waiting.call_id
        assert self.acd.dial_back is not None
        try:
            self.acd.dial_back(seat, self.number)
        except Exception as exc:  # AMI down or refused: the caller keeps their place
            self.failures += 1
            event(log, "acd.callback_dial_failed", level=logging.ERROR, uniqueid=call_id,
                  seat=seat, error=str(exc))  # fmt: skip
            store.release(call_id, seat, ReleaseOutcome.FAILED)
            if self.failures >= self.MAX_ATTEMPTS:
                store.remove_call(call_id)
                return True
            store.try_match_call(call_id)
            return False
        store.set_state(seat, AgentState.ON_CALL)
        store.finish(call_id, seat)
        # The callback's length is not tracked here: the seat says when it is ready again.
        store.set_state(seat, AgentState.PAUSED, CALLBACK_REASON)
        event(log, "acd.callback_offered", uniqueid=call_id, seat=seat)
        return True


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
