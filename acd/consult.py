"""Operator -> lawyer, decided without I/O: which lawyer request to route, which rooms the
call's legs go to for each step, and who may ask.

Every step is a set of moves of the call's legs between two ConfBridge rooms: the call's
`main` room (where the caller is once a lawyer is involved) and the `consult` room (operator
and lawyer talking while the caller hears hold music). The adapter (`ivr.lawyer`) carries the
moves out over AMI.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from acd.model import LEGAL_SKILL, MIN_LEVEL, WaitingCall

LAWYER_QUEUE = "lawyer"
# A lawyer for a caller already talking to a person is found before anyone still waiting.
LAWYER_PRIORITY = 1000
CONSULT_SUFFIX = "-lawyer"


class LawyerMode(StrEnum):
    CONSULT = "consult"  # caller on hold with music, operator talks to the lawyer
    CONFERENCE = "conference"  # caller, operator and lawyer together
    TRANSFER = "transfer"  # the operator leaves; caller and lawyer stay


class Leg(StrEnum):
    CALLER = "caller"
    OPERATOR = "operator"
    LAWYER = "lawyer"


class Stage(StrEnum):
    CONSULT = "consult"
    CONFERENCE = "conference"
    TRANSFERRED = "transferred"


@dataclass(frozen=True, slots=True)
class Rooms:
    main: str
    consult: str


@dataclass(frozen=True, slots=True)
class Step:
    """What to do for one request: move legs to rooms, dial the lawyer into a room (when not
    yet in the call), hang up legs, and the stage the call is in afterwards."""

    moves: tuple[tuple[Leg, str], ...]
    dial_lawyer_into: str | None
    hang_up: tuple[Leg, ...]
    stage: Stage


class NotAllowed(ValueError):
    """A step that does not follow from where the call is (a transfer after a transfer)."""


def rooms(call_id: str) -> Rooms:
    return Rooms(main=call_id, consult=f"{call_id}c")


def consult_call_id(call_id: str) -> str:
    """The id under which the lawyer's leg is routed and held in the ACD."""
    return f"{call_id}{CONSULT_SUFFIX}"


def lawyer_request(call_id: str, now: float, min_level: int = MIN_LEVEL) -> WaitingCall:
    """The lawyer's leg as an ACD call needing `legal`, so the same policy and the same atomic
    assignment choose the lawyer (longest idle, never two calls at once)."""
    return WaitingCall(
        call_id=consult_call_id(call_id),
        queue=LAWYER_QUEUE,
        required={LEGAL_SKILL: min_level},
        priority=LAWYER_PRIORITY,
        enqueued_at=now,
    )


def step(call_id: str, mode: LawyerMode, stage: Stage | None) -> Step:
    """The moves for `mode` when the call is at `stage` (None: no lawyer involved yet)."""
    r = rooms(call_id)
    if stage is None:
        return _first_step(r, mode)
    if stage is Stage.TRANSFERRED:
        raise NotAllowed("the operator has already handed this call to the lawyer")
    if mode is LawyerMode.CONSULT:
        if stage is Stage.CONSULT:
            raise NotAllowed("the operator is already consulting a lawyer on this call")
        # Back to a private word with the lawyer: the caller waits with music again.
        return Step(((Leg.OPERATOR, r.consult), (Leg.LAWYER, r.consult)), None, (), Stage.CONSULT)
    if mode is LawyerMode.CONFERENCE:
        if stage is Stage.CONFERENCE:
            raise NotAllowed("the call is already a three-way conference")
        moves = ((Leg.OPERATOR, r.main), (Leg.LAWYER, r.main))
        return Step(moves, None, (), Stage.CONFERENCE)
    return Step(((Leg.LAWYER, r.main),), None, (Leg.OPERATOR,), Stage.TRANSFERRED)


def _first_step(r: Rooms, mode: LawyerMode) -> Step:
    if mode is LawyerMode.CONSULT:
        moves = ((Leg.CALLER, r.main), (Leg.OPERATOR, r.consult))
        return Step(moves, r.consult, (), Stage.CONSULT)
    if mode is LawyerMode.CONFERENCE:
        moves = ((Leg.CALLER, r.main), (Leg.OPERATOR, r.main))
        return Step(moves, r.main, (), Stage.CONFERENCE)
    # A blind transfer: the caller hears music until the lawyer answers.
    return Step(((Leg.CALLER, r.main),), r.main, (Leg.OPERATOR,), Stage.TRANSFERRED)


def may_request(role: str, requester_seat: str | None, operator_seat: str) -> bool:
    """The operator on the call, or a supervisor/admin, may bring in a lawyer."""
    if role in ("supervisor", "admin"):
        return True
    return role == "operator" and requester_seat is not None and requester_seat == operator_seat
