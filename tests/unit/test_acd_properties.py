"""Routing properties: choices are eligible and fair, batches never double-book, and the
indexed router answers exactly as the reference functions do."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acd.keys import enqueued_us, queue_member, queue_score
from acd.model import (
    Agent,
    AgentState,
    EscalationStep,
    QueueRules,
    Role,
    WaitingCall,
)
from acd.policy import (
    Router,
    agent_rank,
    choose_agent,
    choose_call,
    eligible,
    match,
    rules_for,
    total_level,
)

pytestmark = pytest.mark.unit

SKILLS = ("wage_arrears", "work_injury", "legal", "lang_en", "lang_yue")
QUEUES = ("wage", "injury", "legal")
# Few distinct times, so ties on idle time and arrival actually happen.
TIMES = st.sampled_from([0.0, 10.0, 10.0, 25.0, 40.0, 70.0, 100.0])
NOWS = st.sampled_from([0.0, 35.0, 55.0, 100.0, 130.0, 200.0])

# Skewed so that most seats can take most calls: the interesting cases are between
# several eligible seats (ties, levels), not in the empty answer.
levels = st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 5), min_size=1, max_size=5)
EASY_NEEDS = st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 3), max_size=2)
# Hard calls only escalation lets most seats take: the case for escalated buckets.
HARD_NEEDS = st.dictionaries(st.sampled_from(SKILLS), st.integers(3, 5), min_size=1, max_size=2)
# A fixed menu, as an IVR produces: calls share buckets, so buckets hold several priorities.
MENU = st.sampled_from(
    [{}, {"wage_arrears": 2}, {"wage_arrears": 4}, {"legal": 5}, {"work_injury": 4, "legal": 1}]
)
STATES = st.sampled_from([AgentState.AVAILABLE] * 10 + list(AgentState))


@st.composite
def agents(draw: st.DrawFn, max_size: int = 12) -> list[Agent]:
    ids = draw(st.lists(st.integers(0, 40), unique=True, max_size=max_size))
    return [
        Agent(
            id=f"a{n:02d}",
            role=draw(st.sampled_from(Role)),
            skills=draw(levels),
            state=draw(STATES),
            idle_since=draw(TIMES),
            registered=draw(st.sampled_from([True] * 9 + [False])),
        )
        for n in ids
    ]


@st.composite
def calls(draw: st.DrawFn, max_size: int = 12) -> list[WaitingCall]:
    ids = draw(st.lists(st.integers(0, 40), unique=True, max_size=max_size))
    needs = draw(st.sampled_from([MENU, MENU | HARD_NEEDS, EASY_NEEDS | HARD_NEEDS]))
    return [
        WaitingCall(
            call_id=f"c{n:02d}",
            queue=draw(st.sampled_from(QUEUES)),
            required=draw(needs),
            priority=draw(st.integers(0, 2)),
            language=draw(st.sampled_from([None, None, "en", "yue"])),
            enqueued_at=draw(TIMES),
        )
        for n in ids
    ]


steps = st.one_of(
    st.builds(
        EscalationStep, st.sampled_from([0.0, 30.0, 60.0]), min_level_delta=st.integers(-3, -1)
    ),
    st.builds(
        EscalationStep,
        st.sampled_from([20.0, 45.0]),
        relax_to=st.dictionaries(st.sampled_from(SKILLS), st.integers(0, 5), min_size=1),
    ),
    st.builds(EscalationStep, st.sampled_from([30.0, 60.0, 90.0]), any_operator=st.just(True)),
)


@st.composite
def rulebooks(draw: st.DrawFn) -> dict[str, QueueRules]:
    return {
        q: QueueRules(q, draw(st.lists(steps, max_size=3)), draw(st.booleans())) for q in QUEUES
    }


one_call = calls(max_size=1).filter(bool).map(lambda found: found[0])


@given(st.data(), agents(), rulebooks(), NOWS)
def test_the_chosen_agent_is_eligible_and_nobody_eligible_ranks_better(
    data: st.DataObject, seats: list[Agent], rules_by_queue: dict[str, QueueRules], now: float
) -> None:
    call = data.draw(one_call)
    rules = rules_for(rules_by_queue, call.queue)
    chosen = choose_agent(call, seats, rules, now)
    others = [a for a in seats if eligible(a, call, rules, now)]
    if chosen is None:
        assert others == []
        return
    assert eligible(chosen, call, rules, now)
    for other in others:
        assert other.idle_since >= chosen.idle_since, "someone idle longer was passed over"
        if other.idle_since == chosen.idle_since:
            assert total_level(other, call) <= total_level(chosen, call)
            if total_level(other, call) == total_level(chosen, call):
                assert other.id >= chosen.id


@given(calls(), agents(), rulebooks(), NOWS)
def test_match_never_books_a_seat_or_a_call_twice(
    waiting: list[WaitingCall],
    seats: list[Agent],
    rules_by_queue: dict[str, QueueRules],
    now: float,
) -> None:
    pairs = match(waiting, seats, rules_by_queue, now)
    assert len({c.call_id for c, _ in pairs}) == len(pairs)
    assert len({a.id for _, a in pairs}) == len(pairs)
    for call, agent in pairs:
        assert eligible(agent, call, rules_for(rules_by_queue, call.queue), now)
    _assert_nothing_left_matchable(waiting, seats, pairs, rules_by_queue, now)


def _assert_nothing_left_matchable(
    waiting: Sequence[WaitingCall],
    seats: Sequence[Agent],
    pairs: Sequence[tuple[WaitingCall, Agent]],
    rules_by_queue: dict[str, QueueRules],
    now: float,
) -> None:
    # Greedy: a call left waiting found no free eligible seat, and seats only get used up.
    booked_calls = {c.call_id for c, _ in pairs}
    free = [a for a in seats if a.id not in {b.id for _, b in pairs}]
    for call in waiting:
        if call.call_id not in booked_calls:
            rules = rules_for(rules_by_queue, call.queue)
            assert not any(eligible(a, call, rules, now) for a in free)


@given(st.data(), agents(max_size=20), calls(max_size=20), rulebooks(), NOWS)
@settings(max_examples=200)
def test_the_indexed_router_chooses_exactly_what_the_reference_chooses(
    data: st.DataObject,
    seats: list[Agent],
    waiting: list[WaitingCall],
    rules_by_queue: dict[str, QueueRules],
    now: float,
) -> None:
    router = Router(rules_by_queue, seats, waiting)
    gone_seats = data.draw(
        st.sets(st.sampled_from([a.id for a in seats])) if seats else st.just(set())
    )
    gone_calls = data.draw(
        st.sets(st.sampled_from([c.call_id for c in waiting])) if waiting else st.just(set())
    )
    for agent_id in gone_seats:
        router.agents.drop(agent_id)
    for call_id in gone_calls:
        router.calls.drop(call_id)
    seats = [a for a in seats if a.id not in gone_seats]
    waiting = [c for c in waiting if c.call_id not in gone_calls]
    for arrival in data.draw(calls(max_size=6)) + waiting:
        rules = rules_for(rules_by_queue, arrival.queue)
        assert router.best_agent_for(arrival, now) == choose_agent(arrival, seats, rules, now)
    for agent in data.draw(agents(max_size=6)) + seats:
        assert router.best_call_for(agent, now) == choose_call(agent, waiting, rules_by_queue, now)
    assert router.match(now) == match(waiting, seats, rules_by_queue, now)


@given(agents(), st.data(), rulebooks(), NOWS, st.floats(0, 100))
def test_a_seat_that_qualifies_keeps_qualifying_as_the_call_waits(
    seats: list[Agent],
    data: st.DataObject,
    rules_by_queue: dict[str, QueueRules],
    now: float,
    later: float,
) -> None:
    call = data.draw(one_call)
    rules = rules_for(rules_by_queue, call.queue)
    for agent in seats:
        if eligible(agent, call, rules, now):
            assert eligible(agent, call, rules, now + later)


@given(
    st.lists(
        st.tuples(st.integers(-5, 5), st.floats(0, 2e9), st.text("abc:1", min_size=1)),
        min_size=2,
        max_size=8,
        unique_by=lambda t: t[2],
    )
)
def test_redis_queue_order_is_serving_order(entries: list[tuple[int, float, str]]) -> None:
    # The queue zset sorts by score then member bytes; that must be (priority, wait, id).
    def redis_key(e: tuple[int, float, str]) -> tuple[int, bytes]:
        return queue_score(e[0]), queue_member(enqueued_us(e[1]), e[2]).encode()

    def policy_key(e: tuple[int, float, str]) -> tuple[int, int, str]:
        return -e[0], enqueued_us(e[1]), e[2]

    assert sorted(entries, key=redis_key) == sorted(entries, key=policy_key)


def test_agent_rank_orders_idle_then_level_then_id() -> None:
    call = WaitingCall("c", "q", {"legal": 1})
    a = Agent("b", Role.LAWYER, {"legal": 5}, AgentState.AVAILABLE, 1.0, True)
    b = Agent("a", Role.LAWYER, {"legal": 4}, AgentState.AVAILABLE, 1.0, True)
    assert agent_rank(a, call) < agent_rank(b, call)
