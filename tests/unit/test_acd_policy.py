"""Routing policy examples: skills, levels, order, fairness, escalation, lawyers, seat states."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from acd.model import (
    Agent,
    AgentState,
    EscalationStep,
    QueueRules,
    ReleaseOutcome,
    Role,
    WaitingCall,
)
from acd.policy import (
    Router,
    choose_agent,
    choose_call,
    eligible,
    match,
    order_calls,
    requirement_at,
    state_after_release,
)

pytestmark = pytest.mark.unit

NOW = 1_000.0
PLAIN = QueueRules("wage")
ESCALATING = QueueRules(
    "wage", (EscalationStep(60, any_operator=True), EscalationStep(30, min_level_delta=-1))
)


def seat(
    agent_id: str = "a1",
    skills: Mapping[str, int] | None = None,
    *,
    role: Role = Role.OPERATOR,
    idle_since: float = 0.0,
    state: AgentState = AgentState.AVAILABLE,
    registered: bool = True,
) -> Agent:
    levels = {"wage_arrears": 3} if skills is None else skills
    return Agent(agent_id, role, levels, state, idle_since, registered)


def caller(
    call_id: str = "c1",
    required: Mapping[str, int] | None = None,
    *,
    queue: str = "wage",
    priority: int = 0,
    language: str | None = None,
    enqueued_at: float = NOW,
) -> WaitingCall:
    needs = {"wage_arrears": 2} if required is None else required
    return WaitingCall(call_id, queue, needs, priority, language, enqueued_at)


# --- skills and levels ---------------------------------------------------------------------


def test_seat_with_the_skill_at_the_level_is_eligible() -> None:
    assert eligible(seat(skills={"wage_arrears": 2}), caller(), PLAIN, NOW)


def test_seat_without_the_skill_is_not_eligible() -> None:
    assert not eligible(seat(skills={"work_injury": 5}), caller(), PLAIN, NOW)


def test_seat_below_the_level_is_not_eligible() -> None:
    assert not eligible(seat(skills={"wage_arrears": 1}), caller(), PLAIN, NOW)


def test_every_required_skill_must_be_held() -> None:
    call = caller(required={"wage_arrears": 2, "work_injury": 2})
    assert not eligible(seat(skills={"wage_arrears": 5}), call, PLAIN, NOW)
    assert eligible(seat(skills={"wage_arrears": 2, "work_injury": 3}), call, PLAIN, NOW)


def test_a_call_in_english_needs_a_seat_that_speaks_it() -> None:
    call = caller(language="en")
    assert not eligible(seat(), call, PLAIN, NOW)
    assert eligible(seat(skills={"wage_arrears": 3, "lang_en": 1}), call, PLAIN, NOW)


def test_the_best_agent_is_chosen_only_among_skilled_seats() -> None:
    unskilled = seat("a1", {"work_injury": 5}, idle_since=1)
    skilled = seat("a2", {"wage_arrears": 2}, idle_since=50)
    assert choose_agent(caller(), [unskilled, skilled], PLAIN, NOW) == skilled


def test_no_eligible_seat_means_no_agent() -> None:
    assert choose_agent(caller(), [seat(skills={"legal": 5})], PLAIN, NOW) is None


# --- seat states ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "state",
    [
        AgentState.PAUSED,
        AgentState.RINGING,
        AgentState.WRAP_UP,
        AgentState.ON_CALL,
        AgentState.OFFLINE,
    ],
)
def test_a_seat_that_is_not_available_is_never_chosen(state: AgentState) -> None:
    busy = seat("a1", idle_since=0, state=state)
    free = seat("a2", idle_since=500)
    assert choose_agent(caller(), [busy, free], PLAIN, NOW) == free
    assert Router({}, [busy]).best_agent_for(caller(), NOW) is None


def test_an_unregistered_softphone_is_never_chosen() -> None:
    unregistered = seat("a1", idle_since=0, registered=False)
    assert choose_agent(caller(), [unregistered], PLAIN, NOW) is None
    assert choose_call(unregistered, [caller()], {}, NOW) is None
    assert Router({}, [unregistered], [caller()]).best_call_for(unregistered, NOW) is None


# --- fairness and tie breaks ---------------------------------------------------------------


def test_the_longest_idle_seat_gets_the_call() -> None:
    seats = [seat("a1", idle_since=300), seat("a2", idle_since=100), seat("a3", idle_since=200)]
    assert choose_agent(caller(), seats, PLAIN, NOW) == seats[1]


def test_equal_idle_time_goes_to_the_higher_level_on_the_asked_skills() -> None:
    junior = seat("a1", {"wage_arrears": 2, "legal": 5}, idle_since=100)
    senior = seat("a2", {"wage_arrears": 4}, idle_since=100)
    assert choose_agent(caller(), [junior, senior], PLAIN, NOW) == senior
    assert Router({}, [junior, senior]).best_agent_for(caller(), NOW) == senior


def test_equal_idle_time_and_level_goes_to_the_lower_seat_id() -> None:
    seats = [seat("a9", idle_since=100), seat("a3", idle_since=100), seat("a5", idle_since=100)]
    assert choose_agent(caller(), seats, PLAIN, NOW) == seats[1]
    assert Router({}, seats).best_agent_for(caller(), NOW) == seats[1]


# --- call order ----------------------------------------------------------------------------


def test_higher_priority_calls_are_served_first() -> None:
    calls = [caller("c1", enqueued_at=10), caller("c2", priority=5, enqueued_at=90)]
    assert [c.call_id for c in order_calls(calls)] == ["c2", "c1"]


def test_equal_priority_calls_are_served_by_time_waited() -> None:
    calls = [
        caller("c1", enqueued_at=50),
        caller("c2", enqueued_at=20),
        caller("c3", enqueued_at=30),
    ]
    assert [c.call_id for c in order_calls(calls)] == ["c2", "c3", "c1"]


def test_equal_priority_and_arrival_are_served_by_call_id() -> None:
    calls = [caller("c2", enqueued_at=20), caller("c1", enqueued_at=20)]
    assert [c.call_id for c in order_calls(calls)] == ["c1", "c2"]


def test_a_free_seat_takes_the_first_call_it_can_serve() -> None:
    legal = caller("c1", {"legal": 4}, queue="legal", priority=9, enqueued_at=1)
    old = caller("c2", enqueued_at=10)
    new = caller("c3", enqueued_at=20)
    assert choose_call(seat(), [new, legal, old], {}, NOW) == old


# --- escalation ----------------------------------------------------------------------------


def test_requirement_holds_before_the_first_step() -> None:
    call = caller(required={"wage_arrears": 3}, enqueued_at=NOW - 29.9)
    assert requirement_at(call, ESCALATING, NOW) == {"wage_arrears": 3}


def test_after_30_seconds_a_level_lower_is_accepted() -> None:
    call = caller(required={"wage_arrears": 3}, enqueued_at=NOW - 30)
    assert requirement_at(call, ESCALATING, NOW) == {"wage_arrears": 2}
    junior = seat(skills={"wage_arrears": 2})
    assert not eligible(junior, call, ESCALATING, NOW - 1)
    assert eligible(junior, call, ESCALATING, NOW)


def test_levels_never_drop_below_one() -> None:
    call = caller(required={"wage_arrears": 1}, enqueued_at=NOW - 45)
    assert requirement_at(call, ESCALATING, NOW) == {"wage_arrears": 1}


def test_after_60_seconds_any_operator_may_answer() -> None:
    call = caller(required={"wage_arrears": 4}, enqueued_at=NOW - 60)
    generalist = seat(skills={"work_injury": 1})
    assert requirement_at(call, ESCALATING, NOW) == {}
    assert eligible(generalist, call, ESCALATING, NOW)
    assert not eligible(generalist, call, ESCALATING, NOW - 0.5)


def test_escalation_never_drops_the_language() -> None:
    call = caller(language="en", enqueued_at=NOW - 600)
    assert not eligible(seat(skills={"wage_arrears": 5}), call, ESCALATING, NOW)


def test_relax_to_caps_named_skills_and_zero_drops_them() -> None:
    rules = QueueRules("q", (EscalationStep(10, relax_to={"legal": 3, "lang_en": 0}),))
    call = caller(required={"legal": 5, "lang_en": 2, "work_injury": 2}, enqueued_at=NOW - 10)
    assert requirement_at(call, rules, NOW) == {"legal": 3, "work_injury": 2}


def test_steps_apply_cumulatively_in_time_order() -> None:
    twice = QueueRules(
        "q", (EscalationStep(20, min_level_delta=-1), EscalationStep(10, min_level_delta=-1))
    )
    call = caller(required={"legal": 5}, enqueued_at=NOW - 25)
    assert requirement_at(call, twice, NOW) == {"legal": 3}


def test_escalation_finds_a_seat_for_a_call_that_had_none() -> None:
    call = caller(required={"wage_arrears": 5}, enqueued_at=NOW - 61)
    generalist = seat(skills={"work_injury": 1})
    assert choose_agent(call, [generalist], ESCALATING, NOW - 31) is None
    assert choose_agent(call, [generalist], ESCALATING, NOW) == generalist
    assert Router({"wage": ESCALATING}, [generalist]).best_agent_for(call, NOW) == generalist


# --- lawyers -------------------------------------------------------------------------------


LAWYER = seat("lawyer", {"legal": 5, "wage_arrears": 5}, role=Role.LAWYER, idle_since=0)


def test_lawyers_take_legal_calls() -> None:
    assert eligible(LAWYER, caller(required={"legal": 4}), PLAIN, NOW)


def test_lawyers_are_not_offered_non_legal_calls() -> None:
    operator = seat("op", idle_since=500)
    assert not eligible(LAWYER, caller(), PLAIN, NOW)
    assert choose_agent(caller(), [LAWYER, operator], PLAIN, NOW) == operator
    assert choose_call(LAWYER, [caller()], {}, NOW) is None


def test_the_switch_lets_lawyers_take_non_legal_calls() -> None:
    open_rules = QueueRules("wage", lawyers_take_non_legal=True)
    assert eligible(LAWYER, caller(), open_rules, NOW)
    assert Router({"wage": open_rules}, [], [caller()]).best_call_for(LAWYER, NOW) == caller()


def test_an_any_operator_escalation_does_not_pull_lawyers_into_non_legal_calls() -> None:
    assert not eligible(LAWYER, caller(enqueued_at=NOW - 600), ESCALATING, NOW)


def test_an_escalated_legal_call_still_reaches_lawyers() -> None:
    call = caller(required={"legal": 5}, queue="wage", enqueued_at=NOW - 600)
    assert eligible(LAWYER, call, ESCALATING, NOW)


# --- batches and the indexed router --------------------------------------------------------


def test_match_gives_each_seat_at_most_one_call_in_serving_order() -> None:
    calls = [
        caller("c1", enqueued_at=10),
        caller("c2", priority=1, enqueued_at=50),
        caller("c3", enqueued_at=5),
    ]
    seats = [seat("a1", idle_since=1), seat("a2", idle_since=2)]
    pairs = match(calls, seats, {}, NOW)
    assert [(c.call_id, a.id) for c, a in pairs] == [("c2", "a1"), ("c3", "a2")]


def test_match_leaves_a_call_with_no_eligible_seat_waiting_and_goes_on() -> None:
    calls = [caller("c1", {"legal": 5}, priority=9), caller("c2")]
    pairs = match(calls, [seat()], {}, NOW)
    assert [(c.call_id, a.id) for c, a in pairs] == [("c2", "a1")]


def test_router_match_agrees_with_match_and_keeps_its_seats() -> None:
    calls = [caller("c1", enqueued_at=10), caller("c2", priority=1), caller("c3", enqueued_at=5)]
    seats = [seat("a1", idle_since=1), seat("a2", idle_since=2)]
    router = Router({}, seats, calls)
    assert router.match(NOW) == match(calls, seats, {}, NOW)
    assert len(router.agents) == 2 and len(router.calls) == 3


def test_router_forgets_dropped_calls_and_seats() -> None:
    router = Router({}, [seat("a1", idle_since=1), seat("a2", idle_since=2)], [caller("c1")])
    router.agents.drop("a1")
    assert router.best_agent_for(caller(), NOW) == seat("a2", idle_since=2)
    router.calls.drop("c1")
    assert router.best_call_for(seat("a2", idle_since=2), NOW) is None


def test_putting_a_seat_again_replaces_its_old_entry() -> None:
    router = Router({}, [seat("a1", idle_since=1), seat("a2", idle_since=2)])
    router.agents.put(seat("a1", idle_since=3))
    assert router.best_agent_for(caller(), NOW) == seat("a2", idle_since=2)
    router.agents.put(seat("a2", idle_since=4, state=AgentState.PAUSED))
    assert "a2" not in router.agents


def test_router_weighs_an_escalated_low_priority_call_against_later_buckets() -> None:
    # The seat qualifies for the level-4 bucket only after 30 s: there the young urgent call
    # is out of reach and the old ordinary one is not the best; the level-2 urgent call is.
    young_urgent = caller("c1", {"wage_arrears": 4}, priority=1, enqueued_at=NOW - 10)
    old_plain = caller("c2", {"wage_arrears": 4}, enqueued_at=NOW - 100)
    urgent_easy = caller("c3", {"wage_arrears": 2}, priority=1, enqueued_at=NOW - 5)
    calls = [young_urgent, old_plain, urgent_easy]
    rules = {"wage": ESCALATING}
    three = seat(skills={"wage_arrears": 3})
    assert choose_call(three, calls, rules, NOW) == urgent_easy
    assert Router(rules, [], calls).best_call_for(three, NOW) == urgent_easy


def test_router_escalates_a_bucket_exactly_at_the_step() -> None:
    calls = [caller("c1", {"wage_arrears": 4}, enqueued_at=NOW - 30)]
    three = seat(skills={"wage_arrears": 3})
    router = Router({"wage": ESCALATING}, [], calls)
    assert router.best_call_for(three, NOW - 0.001) is None
    assert router.best_call_for(three, NOW) == calls[0]


# --- model rules ---------------------------------------------------------------------------


@pytest.mark.parametrize("level", [0, 6])
def test_skill_levels_are_one_to_five(level: int) -> None:
    with pytest.raises(ValueError, match="level must be"):
        seat(skills={"legal": level})


def test_escalation_may_only_relax() -> None:
    with pytest.raises(ValueError, match="only relaxes"):
        EscalationStep(30, min_level_delta=1)
    with pytest.raises(ValueError, match="must relax something"):
        EscalationStep(30)


def test_no_answer_pauses_the_seat_and_declined_frees_it() -> None:
    assert state_after_release(ReleaseOutcome.NO_ANSWER) is AgentState.PAUSED
    assert state_after_release(ReleaseOutcome.DECLINED) is AgentState.AVAILABLE
    assert state_after_release(ReleaseOutcome.FAILED) is AgentState.PAUSED


def test_a_seat_is_paused_for_no_answer_only_after_the_configured_misses() -> None:
    assert state_after_release(ReleaseOutcome.NO_ANSWER, misses=1, pause_after=2) is (
        AgentState.AVAILABLE
    )
    assert state_after_release(ReleaseOutcome.NO_ANSWER, misses=2, pause_after=2) is (
        AgentState.PAUSED
    )
    assert state_after_release(ReleaseOutcome.FAILED, misses=1, pause_after=3) is AgentState.PAUSED


def test_queue_rules_survive_the_json_that_shares_them_between_processes() -> None:
    from acd.model import rules_from_json, rules_to_json

    rules = QueueRules(
        "work_injury",
        (
            EscalationStep(60, any_operator=True),
            EscalationStep(30, min_level_delta=-1, relax_to={"work_injury": 1}),
        ),
        lawyers_take_non_legal=True,
        wrap_up_s=20,
    )
    assert rules_from_json(rules_to_json(rules)) == rules
