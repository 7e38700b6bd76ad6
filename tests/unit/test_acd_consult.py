"""Operator -> lawyer decisions: the lawyer request, the moves per step, who may ask."""

from __future__ import annotations

import pytest

from acd.consult import (
    LAWYER_QUEUE,
    LawyerMode,
    Leg,
    NotAllowed,
    Stage,
    consult_call_id,
    lawyer_request,
    may_request,
    rooms,
    step,
)
from acd.model import Agent, AgentState, QueueRules, Role
from acd.policy import choose_agent

pytestmark = pytest.mark.unit

CALL = "1796230785.0"


def test_the_lawyer_is_routed_as_a_legal_call_by_the_same_policy() -> None:
    request = lawyer_request(CALL, now=100.0)
    assert request.call_id == consult_call_id(CALL) == f"{CALL}-lawyer"
    assert request.queue == LAWYER_QUEUE and request.needs_legal
    seats = [
        Agent("1001", Role.OPERATOR, {"operator": 5}, AgentState.AVAILABLE, 1.0, True),
        Agent("2001", Role.LAWYER, {"legal": 5}, AgentState.AVAILABLE, 50.0, True),
        Agent("2002", Role.LAWYER, {"legal": 3}, AgentState.AVAILABLE, 10.0, True),
        Agent("2003", Role.LAWYER, {"legal": 5}, AgentState.PAUSED, 0.0, True),
    ]
    chosen = choose_agent(request, seats, QueueRules(LAWYER_QUEUE), 100.0)
    assert chosen is not None and chosen.id == "2002"  # the longest idle lawyer


def test_consult_puts_the_caller_alone_in_the_call_room_and_dials_the_lawyer_apart() -> None:
    r = rooms(CALL)
    plan = step(CALL, LawyerMode.CONSULT, None)
    assert plan.moves == ((Leg.CALLER, r.main), (Leg.OPERATOR, r.consult))
    assert plan.dial_lawyer_into == r.consult and plan.hang_up == ()
    assert plan.stage is Stage.CONSULT
    assert r.main != r.consult and set(r.consult) <= set("0123456789.c")  # the dialplan filter


def test_after_a_consult_conference_joins_all_and_transfer_drops_the_operator() -> None:
    r = rooms(CALL)
    conference = step(CALL, LawyerMode.CONFERENCE, Stage.CONSULT)
    assert conference.moves == ((Leg.OPERATOR, r.main), (Leg.LAWYER, r.main))
    assert conference.dial_lawyer_into is None and conference.stage is Stage.CONFERENCE
    transfer = step(CALL, LawyerMode.TRANSFER, Stage.CONSULT)
    assert transfer.moves == ((Leg.LAWYER, r.main),) and transfer.hang_up == (Leg.OPERATOR,)
    assert step(CALL, LawyerMode.TRANSFER, Stage.CONFERENCE).hang_up == (Leg.OPERATOR,)
    back = step(CALL, LawyerMode.CONSULT, Stage.CONFERENCE)
    assert back.moves == ((Leg.OPERATOR, r.consult), (Leg.LAWYER, r.consult))


def test_direct_conference_and_blind_transfer_dial_the_lawyer_into_the_call_room() -> None:
    r = rooms(CALL)
    conference = step(CALL, LawyerMode.CONFERENCE, None)
    assert conference.dial_lawyer_into == r.main and conference.hang_up == ()
    transfer = step(CALL, LawyerMode.TRANSFER, None)
    assert transfer.moves == ((Leg.CALLER, r.main),) and transfer.hang_up == (Leg.OPERATOR,)
    assert transfer.dial_lawyer_into == r.main


@pytest.mark.parametrize(
    ("mode", "stage"),
    [
        (LawyerMode.CONSULT, Stage.CONSULT),
        (LawyerMode.CONFERENCE, Stage.CONFERENCE),
        (LawyerMode.CONSULT, Stage.TRANSFERRED),
        (LawyerMode.TRANSFER, Stage.TRANSFERRED),
    ],
)
def test_steps_that_do_not_follow_are_refused(mode: LawyerMode, stage: Stage) -> None:
    with pytest.raises(NotAllowed):
        step(CALL, mode, stage)


def test_who_may_ask() -> None:
    assert may_request("operator", "1061", "1061")
    assert not may_request("operator", "1062", "1061")
    assert not may_request("operator", None, "1061")
    assert may_request("supervisor", None, "1061") and may_request("admin", None, "1061")
    assert not may_request("lawyer", "1061", "1061") and not may_request("viewer", None, "1061")
