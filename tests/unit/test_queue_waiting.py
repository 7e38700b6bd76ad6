"""What a waiting caller is told (position, estimated wait) and when escalation re-matches."""

from __future__ import annotations

import pytest

from acd.model import Agent, AgentState, EscalationStep, QueueRules, Role, WaitingCall
from acd.waiting import escalation_times, estimated_wait_s, staffed_seats, wait_minutes

pytestmark = pytest.mark.unit


def test_the_wait_is_the_callers_ahead_shared_over_the_seats() -> None:
    # Third in line, conversations of 120 s on average, two seats: three 120 s turns over two.
    assert estimated_wait_s(3, [100, 140], [], staffed=2) == pytest.approx(180)


def test_without_conversations_the_recent_wait_stands_in() -> None:
    assert estimated_wait_s(4, [], [30, 90], staffed=2) == pytest.approx(60)
    assert estimated_wait_s(4, [120], [50], staffed=0) == pytest.approx(50)


def test_with_no_figures_there_is_no_estimate() -> None:
    assert estimated_wait_s(1, [], [], staffed=3) is None


def test_broken_figures_are_left_out() -> None:
    assert estimated_wait_s(1, [float("nan"), -5, 60], [], staffed=1) == pytest.approx(60)


def test_position_starts_at_one() -> None:
    with pytest.raises(ValueError, match="position 0"):
        estimated_wait_s(0, [60], [], staffed=1)


@pytest.mark.parametrize(("seconds", "minutes"), [(0, 1), (1, 1), (60, 1), (61, 2), (299.5, 5)])
def test_minutes_are_rounded_up_and_at_least_one(seconds: float, minutes: int) -> None:
    assert wait_minutes(seconds) == minutes


def seat(id: str, skills: dict[str, int], state: AgentState, role: Role = Role.OPERATOR) -> Agent:
    return Agent(id, role, skills, state, registered=True)


def test_staffed_seats_count_everyone_logged_in_who_could_take_the_call_at_some_stage() -> None:
    call = WaitingCall("c", "wage", {"wage_arrears": 3}, enqueued_at=100.0)
    rules = QueueRules("wage", escalation=[EscalationStep(30, min_level_delta=-2)])
    seats = [
        seat("strong", {"wage_arrears": 3}, AgentState.ON_CALL),
        seat("weak", {"wage_arrears": 1}, AgentState.AVAILABLE),  # after the 30 s step
        seat("away", {"wage_arrears": 3}, AgentState.PAUSED),
        seat("gone", {"wage_arrears": 3}, AgentState.OFFLINE),
        seat("other", {"work_injury": 3}, AgentState.AVAILABLE),
        seat("lawyer", {"wage_arrears": 5}, AgentState.AVAILABLE, Role.LAWYER),
    ]
    assert staffed_seats(seats, call, rules) == 2
    lawyers_too = QueueRules("wage", rules.escalation, lawyers_take_non_legal=True)
    assert staffed_seats(seats, call, lawyers_too) == 3


def test_staffed_seats_must_speak_the_callers_language() -> None:
    call = WaitingCall("c", "op", {"operator": 1}, language="en")
    seats = [seat("zh", {"operator": 3}, AgentState.AVAILABLE),
             seat("en", {"operator": 1, "lang_en": 1}, AgentState.WRAP_UP)]  # fmt: skip
    assert staffed_seats(seats, call, QueueRules("op")) == 1


def test_escalation_timers_fire_at_each_step_still_to_come() -> None:
    rules = QueueRules("q", escalation=[EscalationStep(60, any_operator=True),
                                        EscalationStep(20, min_level_delta=-1)])  # fmt: skip
    assert escalation_times(rules, waited_s=0) == [20, 60]
    assert escalation_times(rules, waited_s=25) == [35]
    assert escalation_times(rules, waited_s=60) == []
    assert escalation_times(QueueRules("q"), waited_s=0) == []
