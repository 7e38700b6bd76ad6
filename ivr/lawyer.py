"""Operator -> lawyer on the real PBX: the lawyer chosen by the ACD, the legs moved over AMI.

Bringing in a lawyer (from the operator's `*5` during the call, the API or the desk button):

1. The lawyer is routed like any call needing `legal` (`acd.consult.lawyer_request`): the
   same policy and the same atomic Lua assignment, so a lawyer is never double-booked. No
   lawyer free: a lawyer callback request linked to the call id, and the operator is told.
2. The caller and the operator leave their Dial bridge together (one AMI Redirect with an
   ExtraChannel) for ConfBridge rooms: the caller alone in the call's room hears hold music
   (`music_on_hold_when_empty`), the operator waits in the consult room.
3. The lawyer's phone is rung with AMI Originate into the room (`ChannelId` = the consult id,
   so every later action names the lawyer's leg by that id); answered, the seat is on a call.
4. Conference: operator and lawyer move to the caller's room. Transfer: the lawyer moves there
   and the operator's leg is hung up. Every step is published as a `transferred` call event.

The decisions are `acd.consult`'s; this module only reads, writes Redis and talks AMI.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, cast

from asterisk.ami import AMIClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from acd.consult import (
    LAWYER_QUEUE,
    LawyerMode,
    Leg,
    NotAllowed,
    Stage,
    Step,
    consult_call_id,
    lawyer_request,
    step,
)
from acd.model import AgentState, CallStatus, ReleaseOutcome
from acd.store import AcdStore
from hotline.callevents.live import LiveCalls
from hotline.errors import HotlineError
from hotline.logs import event
from hotline.pbx import ami
from ivr.handoffs import CallbackRequest

log = logging.getLogger("hotline.lawyer")

ROOM_CONTEXT = "hotline-lawyer-room"
ROOM_VAR, CALL_VAR, SEAT_VAR, LEG_VAR = (
    "HOTLINE_ROOM", "HOTLINE_CALL", "HOTLINE_SEAT", "HOTLINE_LEG")  # fmt: skip
BUSY_REASON = "lawyer_call"  # the operator's seat while they are with the caller and a lawyer
LINK_TTL_S = 4 * 3600
_SETTLE_S = 5.0  # how long the caller's queue thread may take to let go of the operator

AmiSession = Callable[[float], AbstractContextManager[AMIClient]]
Report = Callable[[str, Mapping[str, Any]], None]


class NotInCall(HotlineError):
    """The call is not one an operator is talking on (unknown, waiting or already over)."""


@dataclass(frozen=True, slots=True)
class LawyerOutcome:
    call_id: str
    mode: LawyerMode
    operator: str
    lawyer: str | None  # None: nobody free, see callback_id
    stage: Stage | None
    callback_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "call_id": self.call_id,
            "mode": self.mode.value,
            "operator": self.operator,
            "lawyer": self.lawyer,
            "stage": self.stage.value if self.stage else None,
            "callback_id": self.callback_id,
        }


def reserve_lawyer(store: AcdStore, call_id: str, now: float) -> str | None:
    """The lawyer the ACD offers this call's consult to (ringing now), or None."""
    request = lawyer_request(call_id, now)
    store.remove_call(request.call_id)  # a leftover from an earlier, failed attempt
    store.enqueue(request)
    offered = store.try_match_call(request.call_id)
    if offered is not None:
        return offered.agent_id
    queued = store.get_call(request.call_id)
    # A lawyer going ready in between may have taken it through their own match.
    if queued is not None and queued.status is CallStatus.OFFERED and queued.agent_id:
        return queued.agent_id
    store.remove_call(request.call_id)
    return None


def _run_in_thread(work: Callable[[], None]) -> None:
    threading.Thread(target=work, daemon=True, name="lawyer").start()


class LawyerService:
    def __init__(
        self,
        store: AcdStore,
        ami_session: AmiSession,
        engine: Engine,
        report: Report,
        *,
        ring_timeout_s: int = 20,
        caller_id: str = "",
        run_later: Callable[[Callable[[], None]], None] = _run_in_thread,
    ) -> None:
        self.store = store
        self.ami = ami_session
        self.engine = engine
        self.report = report
        self.ring_timeout_s = ring_timeout_s
        self.caller_id = caller_id
        self.run_later = run_later

    # --- reading --------------------------------------------------------------------------

    def link_key(self, call_id: str) -> str:
        return f"{self.store.keys.prefix}lawyer:{call_id}"

    def link(self, call_id: str) -> dict[str, str]:
        return cast("dict[str, str]", self.store.client.hgetall(self.link_key(call_id)))

    def operator_of(self, call_id: str) -> str:
        """The operator seat of a call that is with a person now; NotInCall otherwise."""
        link = self.link(call_id)
        if link:
            return link["operator"]
        queued = self.store.get_call(call_id)
        agent = self.store.get_agent(queued.agent_id) if queued and queued.agent_id else None
        if agent is None or agent.state is not AgentState.ON_CALL or queued is None:
            raise NotInCall(f"call {call_id!r} is not connected to an operator")
        return agent.id

    # --- the request ----------------------------------------------------------------------

    def bring_in(self, call_id: str, mode: LawyerMode, defer_s: float = 0.0) -> LawyerOutcome:
        """One step for the call; raises NotInCall or NotAllowed (acd.consult) when it can't.

        From a key the operator pressed, the operator's channel is running the key's AGI
        inside its bridge (or conference): `defer_s` moves the legs only after that AGI has
        returned, since a leg moved from inside its own feature hook is hung up instead."""
        operator = self.operator_of(call_id)
        link = self.link(call_id)
        stage = Stage(link["stage"]) if link else None
        plan = step(call_id, mode, stage)
        if stage is None:
            return self._start(call_id, mode, operator, plan, defer_s)
        self._save(call_id, stage=plan.stage.value, mode=mode.value)
        self._move_legs(call_id, plan, link, defer_s)
        lawyer = link["lawyer"]
        self.report(call_id, _transfer_data(mode, operator, lawyer))
        event(log, "lawyer.step", call=call_id, mode=mode.value, lawyer=lawyer)
        return LawyerOutcome(call_id, mode, operator, lawyer, plan.stage)

    def _start(
        self, call_id: str, mode: LawyerMode, operator: str, plan: Step, defer_s: float
    ) -> LawyerOutcome:
        with self.ami(5.0) as client:
            peer = _getvar(client, call_id, "BRIDGEPEER")
        if not peer.startswith(f"PJSIP/{operator}-"):
            raise NotInCall(f"call {call_id!r} is not bridged to seat {operator} ({peer!r})")
        lawyer = reserve_lawyer(self.store, call_id, time.time())
        if lawyer is None:
            callback = self._callback(call_id)
            event(log, "lawyer.none_free", call=call_id, callback=callback)
            return LawyerOutcome(call_id, mode, operator, None, None, callback)
        self._save(call_id, operator=operator, lawyer=lawyer, operator_channel=peer,
                   stage=plan.stage.value, mode=mode.value)  # fmt: skip
        # Reported before the legs move: the caller's journal closes the call as it leaves
        # the queue, and its `ended` event should carry this step too.
        self.report(call_id, _transfer_data(mode, operator, lawyer))
        self._move_legs(call_id, plan, self.link(call_id), defer_s)
        self.run_later(lambda: self._keep_operator(operator))
        if plan.dial_lawyer_into is not None:
            room = plan.dial_lawyer_into
            self.run_later(lambda: self._dial_lawyer(call_id, lawyer, room))
        event(log, "lawyer.start", call=call_id, mode=mode.value, lawyer=lawyer, operator=operator)
        return LawyerOutcome(call_id, mode, operator, lawyer, plan.stage)

    def _save(self, call_id: str, **fields: str) -> None:
        key = self.link_key(call_id)
        pipe = self.store.client.pipeline()
        pipe.hset(key, mapping=dict[Any, Any](fields))
        pipe.expire(key, LINK_TTL_S)
        pipe.execute()

    def _callback(self, call_id: str) -> int | None:
        live = LiveCalls(self.store.client).get(call_id)
        request = CallbackRequest(
            uniqueid=call_id,
            caller=live.caller if live else "",
            queue=LAWYER_QUEUE,
            language=live.language if live else "",
        )
        with Session(self.engine, expire_on_commit=False) as session:
            session.add(request)
            session.commit()
        return request.id

    # --- AMI ------------------------------------------------------------------------------

    def _channel(self, call_id: str, leg: Leg, link: Mapping[str, str]) -> str:
        if leg is Leg.CALLER:
            return call_id  # AMI finds a channel by its unique id as well as by name
        if leg is Leg.LAWYER:
            return consult_call_id(call_id)
        return link["operator_channel"]

    def _seat(self, leg: Leg, link: Mapping[str, str]) -> str:
        return {Leg.OPERATOR: link.get("operator", ""), Leg.LAWYER: link.get("lawyer", "")}.get(
            leg, ""
        )

    def _move_legs(self, call_id: str, plan: Step, link: Mapping[str, str], delay: float) -> None:
        if delay <= 0:
            self._carry_out(call_id, plan, link)
            return

        def later() -> None:
            time.sleep(delay)
            try:
                self._carry_out(call_id, plan, link)
            except ami.AmiError as exc:
                event(log, "lawyer.move_failed", level=logging.ERROR, call=call_id,
                      error=str(exc))  # fmt: skip

        self.run_later(later)

    def _carry_out(self, call_id: str, plan: Step, link: Mapping[str, str]) -> None:
        with self.ami(5.0) as client:
            for leg, room in plan.moves:
                channel = self._channel(call_id, leg, link)
                variables = {ROOM_VAR: room, CALL_VAR: call_id, LEG_VAR: leg.value,
                             SEAT_VAR: self._seat(leg, link)}  # fmt: skip
                for name, value in variables.items():
                    ami.send(client, "Setvar", Channel=channel, Variable=name, Value=value)
            self._redirect(client, call_id, plan, link)
            for leg in plan.hang_up:
                ami.send(client, "Hangup", Channel=self._channel(call_id, leg, link), Cause="16")

    def _redirect(
        self, client: AMIClient, call_id: str, plan: Step, link: Mapping[str, str]
    ) -> None:
        # Both legs of a bridge in one Redirect: moved one by one, the second would be hung
        # up as its bridge ends.
        targets = [(self._channel(call_id, leg, link), leg.value) for leg, _ in plan.moves]
        for at in range(0, len(targets), 2):
            (channel, exten), *extra = targets[at : at + 2]
            fields = {"Channel": channel, "Context": ROOM_CONTEXT, "Exten": exten, "Priority": "1"}
            if extra:
                fields |= {"ExtraChannel": extra[0][0], "ExtraContext": ROOM_CONTEXT,
                           "ExtraExten": extra[0][1], "ExtraPriority": "1"}  # fmt: skip
            ami.send(client, "Redirect", **fields)

    def _dial_lawyer(self, call_id: str, lawyer: str, room: str) -> None:
        """Ring the lawyer into the room; unanswered, the caller and the operator are put back
        together and the lawyer is called back later instead."""
        variables = {ROOM_VAR: room, CALL_VAR: call_id, SEAT_VAR: lawyer, LEG_VAR: "lawyer"}
        fields = {
            "Channel": f"PJSIP/{lawyer}",
            "ChannelId": consult_call_id(call_id),
            "Context": ROOM_CONTEXT,
            "Exten": "lawyer",
            "Priority": "1",
            "Timeout": str(self.ring_timeout_s * 1000),
            "CallerID": f"{self.caller_id} <{self.caller_id}>",
            "Variable": ",".join(f"{k}={v}" for k, v in variables.items()),
        }
        try:
            with self.ami(self.ring_timeout_s + 10.0) as client:
                ami.send(client, ami.ORIGINATE, **fields)  # returns once the lawyer answered
            return
        except ami.AmiError as exc:
            event(log, "lawyer.no_answer", level=logging.WARNING, call=call_id, lawyer=lawyer,
                  error=str(exc))  # fmt: skip
        self.store.release(consult_call_id(call_id), lawyer, ReleaseOutcome.NO_ANSWER)
        self.store.remove_call(consult_call_id(call_id))
        self._callback(call_id)
        self._give_back(call_id)

    def _give_back(self, call_id: str) -> None:
        """No lawyer after all: the operator joins the caller again in the call's room."""
        link = self.link(call_id)
        back = Step(((Leg.OPERATOR, call_id),), None, (), Stage.CONFERENCE)
        self._save(call_id, stage=Stage.CONFERENCE.value, lawyer="")
        try:
            self._carry_out(call_id, back, link)
        except ami.AmiError as exc:  # the operator hung up meanwhile
            event(log, "lawyer.give_back_failed", level=logging.WARNING, call=call_id,
                  error=str(exc))  # fmt: skip

    def _keep_operator(self, operator: str) -> None:
        """The caller's queue thread ends the ACD call as the caller leaves the Dial (the seat
        goes to wrap-up); the operator is still on the phone, so hold the seat out of routing."""
        deadline = time.monotonic() + _SETTLE_S
        while time.monotonic() < deadline:
            agent = self.store.get_agent(operator)
            if agent is not None and agent.state in (AgentState.WRAP_UP, AgentState.AVAILABLE):
                self.store.set_state(operator, AgentState.PAUSED, BUSY_REASON)
                return
            time.sleep(0.05)

    # --- the legs' own notices (dialplan -> FastAGI) ----------------------------------------

    def lawyer_answered(self, call_id: str, lawyer: str) -> None:
        self.store.set_state(lawyer, AgentState.ON_CALL)

    def left(self, call_id: str, leg: str, seat: str, wrap_up: Callable[[str, str], None]) -> None:
        """A leg hung up or was hung up: the lawyer's consult ends, the operator's hold ends."""
        if leg == Leg.LAWYER.value and seat:
            if self.store.finish(consult_call_id(call_id), seat):
                wrap_up(seat, LAWYER_QUEUE)
        elif leg == Leg.OPERATOR.value and seat:
            agent = self.store.get_agent(seat)
            if agent is not None and agent.state is AgentState.PAUSED:
                self.store.set_state(seat, AgentState.WRAP_UP)
                wrap_up(seat, LAWYER_QUEUE)


def _getvar(client: AMIClient, channel: str, name: str) -> str:
    try:
        reply = ami.send(client, "Getvar", Channel=channel, Variable=name)
    except ami.AmiError as exc:
        raise NotInCall(f"channel {channel!r} is gone ({exc})") from None
    return reply.get("Value", "") or ""


def _transfer_data(mode: LawyerMode, operator: str, lawyer: str) -> dict[str, str]:
    return {"mode": mode.value, "from_agent": operator, "agent": lawyer, "to": "lawyer"}


__all__ = ["LawyerOutcome", "LawyerService", "NotAllowed", "NotInCall", "reserve_lawyer"]
