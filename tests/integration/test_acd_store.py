"""ACD store against a real Redis: lifecycle, atomic refusals, BLPOP handoff, and a
many-thread, many-process race that must never double-book a seat or a call."""

from __future__ import annotations

import multiprocessing
import os
import random
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import redis

from acd.keys import AcdKeys
from acd.model import (
    Agent,
    AgentState,
    CallStatus,
    EscalationStep,
    QueueRules,
    ReleaseOutcome,
    Role,
    WaitingCall,
)
from acd.policy import choose_call
from acd.store import AcdStore, Assignment, Client, Refusal, connect

pytestmark = pytest.mark.integration

REDIS_URL = os.environ.get("HOTLINE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
T0 = 1_750_000_000.0
RULES = {
    "wage": QueueRules("wage", (EscalationStep(30, min_level_delta=-1),), wrap_up_s=15),
    "legal": QueueRules("legal", wrap_up_s=0),
}


class ManualClock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def redis_client() -> Iterator[Client]:
    client = connect(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        reason = f"Redis not reachable at {REDIS_URL} ({exc}); set HOTLINE_TEST_REDIS_URL"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        print(f"SKIP: {reason}", file=sys.stderr)
        pytest.skip(reason)
    yield client
    client.close()


def unique_keys() -> AcdKeys:
    return AcdKeys(f"hotline:test:{uuid.uuid4().hex[:12]}:acd:")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def store(redis_client: Client, clock: ManualClock) -> Iterator[AcdStore]:
    # A key prefix of its own: tests can run in parallel, and cleanup never touches others.
    acd = AcdStore(redis_client, RULES, keys=unique_keys(), clock=clock, first_page=2)
    yield acd
    acd.purge()


def seat(
    agent_id: str,
    skills: dict[str, int] | None = None,
    *,
    idle_since: float = T0 - 100,
    role: Role = Role.OPERATOR,
    state: AgentState = AgentState.AVAILABLE,
    registered: bool = True,
) -> Agent:
    return Agent(agent_id, role, skills or {"wage_arrears": 3}, state, idle_since, registered)


def caller(
    call_id: str,
    required: dict[str, int] | None = None,
    *,
    queue: str = "wage",
    priority: int = 0,
    enqueued_at: float = T0 - 5,
) -> WaitingCall:
    return WaitingCall(call_id, queue, required or {"wage_arrears": 2}, priority, None, enqueued_at)


def snapshot(client: Client, keys: AcdKeys) -> dict[str, object]:
    """Every key's content under the prefix, except the event log."""
    out: dict[str, object] = {}
    for key in sorted(client.scan_iter(match=keys.everything())):
        kind = client.type(key)
        if kind == "hash":
            out[key] = client.hgetall(key)
        elif kind == "zset":
            out[key] = client.zrange(key, 0, -1, withscores=True)
        elif kind == "set":
            out[key] = sorted(client.smembers(key))
        elif kind == "list":
            out[key] = client.lrange(key, 0, -1)
    return out


# --- seats and calls -----------------------------------------------------------------------


def test_available_registered_seats_are_indexed_per_skill(store: AcdStore) -> None:
    r, k = store.client, store.keys
    store.upsert_agent(seat("a1", {"wage_arrears": 3, "lang_en": 1}, idle_since=T0 - 50))
    store.upsert_agent(seat("a2", state=AgentState.PAUSED))
    store.upsert_agent(seat("a3", registered=False))
    assert r.zrange(k.available(), 0, -1, withscores=True) == [("a1", T0 - 50)]
    assert r.zrange(k.available_with("lang_en", 1), 0, -1) == ["a1"]
    assert r.zrange(k.available_with("wage_arrears", 3), 0, -1) == ["a1"]
    assert r.zrange(k.available_with("wage_arrears", 4), 0, -1) == []
    store.upsert_agent(seat("a1", {"legal": 5}, idle_since=T0 - 50))
    assert r.zrange(k.available_with("lang_en", 1), 0, -1) == []
    assert r.zrange(k.available_with("legal", 5), 0, -1) == ["a1"]
    assert store.get_agent("a1") == seat("a1", {"legal": 5}, idle_since=T0 - 50)


def test_registration_takes_a_seat_out_of_and_back_into_the_index(store: AcdStore) -> None:
    store.upsert_agent(seat("a1"))
    assert store.set_registered("a1", False)
    assert store.available_agents() == []
    store.set_registered("a1", True)
    assert [a.id for a in store.available_agents()] == ["a1"]


def test_waiting_calls_come_back_in_serving_order(store: AcdStore) -> None:
    store.enqueue(caller("late", enqueued_at=T0 - 1))
    store.enqueue(caller("early", enqueued_at=T0 - 9))
    store.enqueue(caller("urgent", priority=5, enqueued_at=T0))
    assert [c.call_id for c in store.waiting_calls("wage")] == ["urgent", "early", "late"]
    assert store.get_call("early") == store.get_call("early")
    assert store.enqueue(caller("early")).reason == Refusal.CALL_EXISTS


def test_becoming_available_restarts_the_idle_clock(store: AcdStore, clock: ManualClock) -> None:
    store.upsert_agent(seat("a1", state=AgentState.PAUSED))
    clock.now = T0 + 7
    store.set_state("a1", AgentState.AVAILABLE)
    agent = store.get_agent("a1")
    assert agent is not None and agent.idle_since == T0 + 7


# --- assign --------------------------------------------------------------------------------


def test_assign_rings_the_seat_and_offers_the_call(store: AcdStore) -> None:
    r, k = store.client, store.keys
    store.upsert_agent(seat("a1"))
    store.enqueue(caller("c1"))
    assert store.assign("c1", "a1")
    agent, queued = store.get_agent("a1"), store.get_call("c1")
    assert agent is not None and agent.state is AgentState.RINGING
    assert agent.current_call == "c1"
    assert queued is not None and queued.status is CallStatus.OFFERED
    assert queued.agent_id == "a1"
    assert r.zcard(k.available()) == 0 and r.zcard(k.available_with("wage_arrears", 1)) == 0
    assert r.zcard(k.queue("wage")) == 0
    assert r.lrange(k.offer("c1"), 0, -1) == ["a1"]
    assert 0 < r.pttl(k.offer("c1")) <= 120_000
    assert store.events()[-1][1] == {"type": "offer", "call": "c1", "agent": "a1"}


@pytest.mark.parametrize(
    ("setup", "call_id", "agent_id", "reason"),
    [
        ("seat_paused", "c1", "a1", Refusal.AGENT_NOT_AVAILABLE),
        ("seat_unregistered", "c1", "a1", Refusal.AGENT_UNREGISTERED),
        ("seat_ringing", "c1", "a1", Refusal.AGENT_NOT_AVAILABLE),
        ("call_offered", "c1", "a1", Refusal.CALL_NOT_WAITING),
        ("none", "missing", "a1", Refusal.NO_CALL),
        ("none", "c1", "missing", Refusal.NO_AGENT),
    ],
)
def test_a_lost_race_changes_nothing(
    store: AcdStore, setup: str, call_id: str, agent_id: str, reason: Refusal
) -> None:
    store.upsert_agent(seat("a1"))
    store.upsert_agent(seat("a2"))
    store.enqueue(caller("c1"))
    store.enqueue(caller("c2"))
    if setup == "seat_paused":
        store.set_state("a1", AgentState.PAUSED)
    elif setup == "seat_unregistered":
        store.set_registered("a1", False)
    elif setup == "seat_ringing":
        assert store.assign("c2", "a1")
    elif setup == "call_offered":
        assert store.assign("c1", "a2")
    before = snapshot(store.client, store.keys)
    result = store.assign(call_id, agent_id)
    assert not result and result.reason == reason
    assert snapshot(store.client, store.keys) == before


def test_the_blpop_handoff_wakes_the_waiting_call_at_once(store: AcdStore) -> None:
    store.upsert_agent(seat("a1"))
    store.enqueue(caller("c1"))
    woke: list[tuple[str | None, float]] = []
    ready = threading.Event()

    def agi_thread() -> None:
        ready.set()
        offered = store.wait_for_offer("c1", timeout_s=5)
        woke.append((offered, time.perf_counter()))

    waiter = threading.Thread(target=agi_thread)
    waiter.start()
    ready.wait()
    time.sleep(0.05)  # let BLPOP reach Redis before the offer
    assigned_at = time.perf_counter()
    assert store.try_match_call("c1") == Assignment("c1", "a1")
    waiter.join(5)
    offered, woke_at = woke[0]
    assert offered == "a1"
    latency_ms = (woke_at - assigned_at) * 1000
    print(f"BLPOP handoff: woke {latency_ms:.2f} ms after try_match_call began")
    assert latency_ms < 50


def test_waiting_for_an_offer_times_out_with_none(store: AcdStore) -> None:
    started = time.perf_counter()
    assert store.wait_for_offer("nobody", timeout_s=0.1) is None
    assert time.perf_counter() - started < 1


# --- abandon, release, finish, state rules -------------------------------------------------


def test_an_abandoned_waiting_call_leaves_the_queue(store: AcdStore) -> None:
    store.enqueue(caller("c1"))
    assert store.remove_call("c1").reason == CallStatus.WAITING
    assert store.get_call("c1") is None and store.waiting_calls() == []
    assert store.remove_call("c1").reason == Refusal.NO_CALL


def test_abandon_while_ringing_frees_the_seat_in_its_old_place(store: AcdStore) -> None:
    store.upsert_agent(seat("a1", idle_since=T0 - 300))
    store.upsert_agent(seat("a2", idle_since=T0 - 200))
    store.enqueue(caller("c1"))
    store.assign("c1", "a1")
    assert store.remove_call("c1").reason == CallStatus.OFFERED
    assert store.get_agent("a1") == seat("a1", idle_since=T0 - 300)
    assert [a.id for a in store.available_agents()] == ["a1", "a2"]
    assert store.client.exists(store.keys.offer("c1")) == 0


def test_an_answered_call_cannot_be_abandoned_only_finished(store: AcdStore) -> None:
    store.upsert_agent(seat("a1"))
    store.enqueue(caller("c1"))
    store.assign("c1", "a1")
    assert store.set_state("a1", AgentState.ON_CALL)
    assert store.remove_call("c1").reason == Refusal.CALL_CONNECTED
    assert store.finish("c1", "a1")
    agent = store.get_agent("a1")
    assert agent is not None and agent.state is AgentState.WRAP_UP
    assert agent.current_call is None and store.get_call("c1") is None


def test_finish_on_a_queue_without_wrap_up_frees_the_seat(
    store: AcdStore, clock: ManualClock
) -> None:
    store.upsert_agent(seat("a1", {"legal": 5}, role=Role.LAWYER))
    store.enqueue(caller("c1", {"legal": 4}, queue="legal"))
    store.try_match_call("c1")
    clock.now = T0 + 60
    store.finish("c1", "a1")
    assert store.get_agent("a1") == seat("a1", {"legal": 5}, role=Role.LAWYER, idle_since=T0 + 60)


def test_no_answer_puts_the_call_back_in_its_place_and_pauses_the_seat(store: AcdStore) -> None:
    store.upsert_agent(seat("a1", idle_since=T0 - 300))
    store.enqueue(caller("first", enqueued_at=T0 - 50))
    store.enqueue(caller("second", enqueued_at=T0 - 40))
    store.assign("first", "a1")
    member_before = store.client.hget(store.keys.call("first"), "member")
    assert store.release("first", "a1", ReleaseOutcome.NO_ANSWER)
    agent = store.get_agent("a1")
    assert agent is not None and agent.state is AgentState.PAUSED
    assert [c.call_id for c in store.waiting_calls()] == ["first", "second"]
    assert store.client.zrange(store.keys.queue("wage"), 0, 0) == [member_before]
    store.upsert_agent(seat("a2"))
    assert store.try_match_agent("a2") == Assignment("first", "a2")


def test_a_declined_offer_sends_the_seat_to_the_back_of_the_idle_line(
    store: AcdStore, clock: ManualClock
) -> None:
    store.upsert_agent(seat("a1", idle_since=T0 - 300))
    store.upsert_agent(seat("a2", idle_since=T0 - 200))
    store.enqueue(caller("c1"))
    store.assign("c1", "a1")
    clock.now = T0 + 1
    assert store.release("c1", "a1", ReleaseOutcome.DECLINED)
    assert [a.id for a in store.available_agents()] == ["a2", "a1"]


def test_release_by_a_seat_that_was_not_offered_the_call_is_refused(store: AcdStore) -> None:
    store.upsert_agent(seat("a1"))
    store.upsert_agent(seat("a2"))
    store.enqueue(caller("c1"))
    store.assign("c1", "a1")
    before = snapshot(store.client, store.keys)
    assert store.release("c1", "a2", ReleaseOutcome.NO_ANSWER).reason == (
        Refusal.NOT_OFFERED_TO_AGENT
    )
    assert store.finish("c1", "a2").reason == Refusal.NOT_OFFERED_TO_AGENT
    assert snapshot(store.client, store.keys) == before


def test_a_seat_holding_a_call_cannot_be_paused_or_freed(store: AcdStore) -> None:
    store.upsert_agent(seat("a1"))
    store.enqueue(caller("c1"))
    store.assign("c1", "a1")
    assert store.set_state("a1", AgentState.PAUSED).reason == Refusal.HOLDS_CALL
    assert store.set_state("a1", AgentState.AVAILABLE).reason == Refusal.HOLDS_CALL
    assert store.set_state("a2", AgentState.AVAILABLE).reason == Refusal.NO_AGENT
    store.upsert_agent(seat("a2"))
    assert store.set_state("a2", AgentState.ON_CALL).reason == Refusal.NO_CALL_HELD
    assert store.upsert_agent(seat("a1", state=AgentState.PAUSED)).reason == "kept_live_state"


# --- try_match -----------------------------------------------------------------------------


def test_try_match_call_picks_the_longest_idle_eligible_seat_across_pages(
    store: AcdStore,
) -> None:
    # The first page is 2 seats: the best one, a lawyer's junior colleague, is on page two.
    for n in range(4):
        lawyer = seat(
            f"a{n}", {"wage_arrears": 5, "legal": 5}, role=Role.LAWYER, idle_since=T0 - 100 + n
        )
        store.upsert_agent(lawyer)
    store.upsert_agent(seat("a4", {"wage_arrears": 3}, idle_since=T0 - 50))
    store.upsert_agent(seat("a5", {"wage_arrears": 3}, idle_since=T0 - 40))
    store.enqueue(caller("c1", {"wage_arrears": 3}))
    assert store.try_match_call("c1") == Assignment("c1", "a4")


def test_try_match_call_waits_for_escalation(store: AcdStore, clock: ManualClock) -> None:
    store.upsert_agent(seat("a1", {"wage_arrears": 3}))
    store.enqueue(caller("c1", {"wage_arrears": 4}, enqueued_at=T0))
    assert store.try_match_call("c1") is None
    clock.now = T0 + 30
    assert store.try_match_call("c1") == Assignment("c1", "a1")


def test_try_match_agent_takes_the_best_call_across_queues(store: AcdStore) -> None:
    lawyer = seat("a1", {"legal": 5, "wage_arrears": 5}, role=Role.LAWYER)
    store.upsert_agent(lawyer)
    for n in range(5):
        store.enqueue(caller(f"w{n}", priority=3, enqueued_at=T0 - 60 - n))
    store.enqueue(caller("l1", {"legal": 3}, queue="legal", enqueued_at=T0 - 1))
    store.enqueue(caller("l0", {"legal": 3}, queue="legal", priority=1, enqueued_at=T0))
    expected = choose_call(lawyer, store.waiting_calls(), RULES, T0)
    assert expected is not None and expected.call_id == "l0"
    assert store.try_match_agent("a1") == Assignment("l0", "a1")


def test_try_match_agent_for_a_seat_that_cannot_take_calls_does_nothing(
    store: AcdStore,
) -> None:
    store.upsert_agent(seat("a1", state=AgentState.PAUSED))
    store.enqueue(caller("c1"))
    assert store.try_match_agent("a1") is None
    assert store.try_match_agent("ghost") is None


class StealingStore(AcdStore):
    """Another router grabs the chosen seat between our read and our assign, once."""

    stolen = False

    def _best_agent(self, call: WaitingCall, now: float, passed: set[str]) -> Agent | None:
        agent = super()._best_agent(call, now, passed)
        if agent is not None and not self.stolen:
            self.stolen = True
            assert self.assign("decoy", agent.id)
        return agent


def test_try_match_call_retries_with_the_next_best_after_a_lost_race(
    redis_client: Client, clock: ManualClock
) -> None:
    acd = StealingStore(redis_client, RULES, keys=unique_keys(), clock=clock)
    try:
        acd.upsert_agent(seat("a1", idle_since=T0 - 300))
        acd.upsert_agent(seat("a2", idle_since=T0 - 200))
        acd.enqueue(caller("decoy", enqueued_at=T0 - 90))
        acd.enqueue(caller("c1"))
        assert acd.try_match_call("c1") == Assignment("c1", "a2")
    finally:
        acd.purge()


# --- the race ------------------------------------------------------------------------------

N_AGENTS, N_CALLS = 200, 3000
THREADS, PROCESSES = 32, 3
# A fixed amount of work per router, not a time window: the race must be as fierce on a loaded
# CI machine as on a quiet one (and the test asserts no throughput).
MOVES_PER_ROUTER = 150


@dataclass
class Tally:
    successes: list[tuple[str, str]] = field(default_factory=list)
    attempts: int = 0


def hammer(prefix: str, seed: int, moves: int) -> Tally:
    """One router: random assigns, try_match from both sides, releases, finishes, abandons."""
    rng = random.Random(seed)
    acd = AcdStore(connect(REDIS_URL), RULES, keys=AcdKeys(prefix), events_maxlen=10_000_000)
    tally = Tally()
    for _ in range(moves):
        tally.attempts += 1
        hit = _one_move(acd, rng)
        if hit is not None:
            tally.successes.append(hit)
            _maybe_let_go(acd, rng, hit)
    return tally


def _one_move(acd: AcdStore, rng: random.Random) -> tuple[str, str] | None:
    call_id, agent_id = f"c{rng.randrange(N_CALLS)}", f"a{rng.randrange(N_AGENTS)}"
    roll = rng.random()
    if roll < 0.70:
        return (call_id, agent_id) if acd.assign(call_id, agent_id) else None
    if roll < 0.99:
        match = acd.try_match_call(call_id) if roll < 0.85 else acd.try_match_agent(agent_id)
        return None if match is None else (match.call_id, match.agent_id)
    acd.remove_call(call_id)
    return None


def _maybe_let_go(acd: AcdStore, rng: random.Random, hit: tuple[str, str]) -> None:
    # Churn, so seats and calls come back and are fought over again.
    roll = rng.random()
    if roll < 0.45:
        acd.release(*hit, ReleaseOutcome.DECLINED)
    elif roll < 0.9 and acd.finish(*hit):
        acd.set_state(hit[1], AgentState.AVAILABLE)


def _process_main(prefix: str, seed: int, moves: int, out: Any) -> None:
    tally = hammer(prefix, seed, moves)
    out.put((tally.successes, tally.attempts))


def _populate(acd: AcdStore, rng: random.Random) -> None:
    pipe_seats = [
        seat(f"a{n}", {"wage_arrears": rng.randint(2, 5)}, idle_since=T0 - rng.uniform(0, 600))
        for n in range(N_AGENTS)
    ]
    for agent in pipe_seats:
        acd.upsert_agent(agent)
    for n in range(N_CALLS):
        acd.enqueue(caller(f"c{n}", priority=rng.choice([0, 0, 1]), enqueued_at=T0 - n / 10))


def test_no_seat_and_no_call_is_ever_double_booked(redis_client: Client) -> None:
    keys = unique_keys()
    acd = AcdStore(redis_client, RULES, keys=keys, events_maxlen=10_000_000)
    try:
        _populate(acd, random.Random(7))
        tallies = _race(keys.prefix)
        successes = [s for t in tallies for s in t.successes]
        attempts = sum(t.attempts for t in tallies)
        print(
            f"race: {attempts} attempts, {len(successes)} offers, "
            f"{THREADS} threads + {PROCESSES} processes"
        )
        assert attempts == (THREADS + PROCESSES) * MOVES_PER_ROUTER
        assert len(successes) > N_AGENTS
        holders = _replay_events(acd, successes)
        _check_final_state(acd, holders)
    finally:
        acd.purge()


def _race(prefix: str) -> list[Tally]:
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    procs: list[Any] = [
        ctx.Process(target=_process_main, args=(prefix, 1000 + n, MOVES_PER_ROUTER, out))
        for n in range(PROCESSES)
    ]
    tallies: list[Tally] = [Tally() for _ in range(THREADS)]
    threads = [
        threading.Thread(target=lambda n=n: _thread_main(prefix, n, tallies))
        for n in range(THREADS)
    ]
    for worker in [*procs, *threads]:
        worker.start()
    results = [out.get(timeout=60) for _ in procs]
    for worker in [*procs, *threads]:
        worker.join(60)
    return tallies + [Tally(list(s), a) for s, a in results]


def _thread_main(prefix: str, n: int, tallies: list[Tally]) -> None:
    tallies[n] = hammer(prefix, n, MOVES_PER_ROUTER)


def _replay_events(acd: AcdStore, successes: list[tuple[str, str]]) -> dict[str, str]:
    """Walk the event log in commit order: no offer may hit a seat or call already held."""
    seat_holds: dict[str, str] = {}
    offered_to: dict[str, str] = {}
    offers: list[tuple[str, str]] = []
    for _, ev in acd.events():
        call_id, agent_id = ev.get("call", ""), ev.get("agent", "")
        if ev["type"] == "offer":
            assert agent_id not in seat_holds, f"{agent_id} offered {call_id} while ringing"
            assert call_id not in offered_to, f"{call_id} offered to two seats"
            seat_holds[agent_id], offered_to[call_id] = call_id, agent_id
            offers.append((call_id, agent_id))
        elif ev["type"] in ("release", "finish", "abandon") and call_id in offered_to:
            del seat_holds[offered_to.pop(call_id)]
    assert Counter(offers) == Counter(successes), "every offer reported once, and only offers"
    return seat_holds


def _check_final_state(acd: AcdStore, holders: dict[str, str]) -> None:
    r, k = acd.client, acd.keys
    ringing: dict[str, str] = {}
    for n in range(N_AGENTS):
        agent = acd.get_agent(f"a{n}")
        assert agent is not None
        if agent.current_call is not None:
            ringing[agent.id] = agent.current_call
            assert r.zscore(k.available(), agent.id) is None
    assert ringing == holders
    per_call = Counter(ringing.values())
    assert all(count == 1 for count in per_call.values())
    for agent_id, call_id in ringing.items():
        queued = acd.get_call(call_id)
        assert queued is not None and queued.agent_id == agent_id
        assert queued.status is CallStatus.OFFERED
    offered = [
        c
        for c in (acd.get_call(f"c{n}") for n in range(N_CALLS))
        if c is not None and c.status is CallStatus.OFFERED
    ]
    assert len(offered) == len(ringing)


def test_a_seat_is_paused_only_after_n_offers_in_a_row_ring_out(
    redis_client: Client, clock: ManualClock
) -> None:
    store = AcdStore(redis_client, RULES, keys=unique_keys(), clock=clock,
                     no_answer_pause_after=2)  # fmt: skip
    try:
        store.upsert_agent(seat("a1", idle_since=T0 - 300))
        store.upsert_agent(seat("a2", idle_since=T0 - 10))
        store.enqueue(caller("c1", enqueued_at=T0 - 50))
        assert store.try_match_call("c1") == Assignment("c1", "a1")
        clock.now = T0 + 1
        assert store.release("c1", "a1", ReleaseOutcome.NO_ANSWER)
        first_miss = store.get_agent("a1")
        assert first_miss is not None and first_miss.state is AgentState.AVAILABLE
        # Back of the idle line: the call goes to the other seat next.
        assert store.try_match_call("c1") == Assignment("c1", "a2")
        assert store.release("c1", "a2", ReleaseOutcome.NO_ANSWER)
        assert store.try_match_call("c1") == Assignment("c1", "a1")
        assert store.release("c1", "a1", ReleaseOutcome.NO_ANSWER)
        second_miss = store.get_agent("a1")
        assert second_miss is not None and second_miss.state is AgentState.PAUSED
        # Answering resets the count: a2 missed once, then answered, then misses once more.
        assert store.try_match_call("c1") == Assignment("c1", "a2")
        store.set_state("a2", AgentState.ON_CALL)
        assert store.finish("c1", "a2")
        store.set_state("a2", AgentState.AVAILABLE)
        store.enqueue(caller("c2", enqueued_at=T0 + 5))
        assert store.try_match_call("c2") == Assignment("c2", "a2")
        assert store.release("c2", "a2", ReleaseOutcome.NO_ANSWER)
        after_answer = store.get_agent("a2")
        assert after_answer is not None and after_answer.state is AgentState.AVAILABLE
    finally:
        store.purge()


def test_the_pause_count_must_be_positive(redis_client: Client) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        AcdStore(redis_client, no_answer_pause_after=0)


# --- queue rules shared between processes ---------------------------------------------------


def test_rules_configured_by_the_ivr_reach_a_process_that_never_loaded_the_flow(
    redis_client: Client, clock: ManualClock
) -> None:
    keys = unique_keys()
    ivr = AcdStore(redis_client, keys=keys, clock=clock)
    desk = AcdStore(redis_client, keys=keys, clock=clock)  # the web desk, the AMI listener
    try:
        relaxed = QueueRules("wage", (EscalationStep(30, min_level_delta=-1),), wrap_up_s=7)
        ivr.configure({"wage": relaxed})
        assert desk.configured("wage") == relaxed
        # A call waiting 40 s for level 3 may now go to a level-2 seat that the desk readies.
        ivr.enqueue(caller("c-shared", {"wage_arrears": 3}, enqueued_at=T0 - 40))
        desk.upsert_agent(seat("a-shared", {"wage_arrears": 2}, state=AgentState.PAUSED))
        desk.set_state("a-shared", AgentState.AVAILABLE)
        assert desk.try_match_agent("a-shared") == Assignment("c-shared", "a-shared")
    finally:
        ivr.purge()


def test_a_corrupt_shared_rule_leaves_the_queue_on_what_the_process_had(
    redis_client: Client,
) -> None:
    keys = unique_keys()
    acd = AcdStore(redis_client, RULES, keys=keys)
    try:
        redis_client.hset(keys.rules(), mapping={"wage": "{not json", "legal": '{"x": 1}'})
        assert acd.rules("wage") == RULES["wage"]
        assert acd.rules("legal") == RULES["legal"]
    finally:
        acd.purge()


def test_resync_keeps_a_callers_place_kept_for_a_callback_until_it_expires(
    store: AcdStore,
) -> None:
    from acd.reconcile import reconcile_calls

    store.enqueue(caller("c-gone", enqueued_at=T0 - 50))
    store.enqueue(caller("c-callback", enqueued_at=T0 - 40))
    store.keep_callback("c-callback", until=T0 + 3600)
    assert reconcile_calls(store, live_channels=[], listed_at=T0) == ["c-gone"]
    assert store.get_call("c-callback") is not None
    # Past its time (the FastAGI server that kept it died), the place goes too.
    assert reconcile_calls(store, live_channels=[], listed_at=T0 + 3601) == ["c-callback"]
    store.keep_callback("c-other", until=T0 + 10)
    store.drop_kept_callback("c-other")
    assert store.kept_callbacks(T0) == set()
