"""Benchmark of ACD routing: indexed decision latency, and Redis try_match + Lua assign.

Run: python benchmarks/acd_policy.py [--redis-url URL] [--decisions N] [--no-redis]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from acd.store import AcdStore, Assignment

# Runs as a plain script from a checkout: make `acd` importable without installing.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from acd.model import (
    Agent,
    AgentState,
    EscalationStep,
    QueueRules,
    Role,
    WaitingCall,
)
from acd.policy import Router, choose_agent, choose_call

TOPICS = {
    "wage": "wage_arrears",
    "injury": "work_injury",
    "contract": "labor_contract",
    "social": "social_insurance",
    "dismissal": "dismissal",
}
LANGUAGES = (("en", 0.05), ("yue", 0.02))
NOW = 1_750_000_000.0


def make_rules() -> dict[str, QueueRules]:
    relax = (EscalationStep(30, min_level_delta=-1), EscalationStep(60, any_operator=True))
    rules = {q: QueueRules(q, relax) for q in TOPICS}
    rules["legal"] = QueueRules("legal", (EscalationStep(45, min_level_delta=-1),))
    return rules


def make_agent(rng: random.Random, n: int) -> Agent:
    roll = rng.random()
    role = Role.LAWYER if roll < 0.1 else Role.SUPERVISOR if roll < 0.15 else Role.OPERATOR
    topics = rng.sample(sorted(TOPICS.values()), rng.randint(1, 4))
    skills = {t: rng.randint(1, 5) for t in topics}
    if role is Role.LAWYER:
        skills["legal"] = rng.randint(3, 5)
    for lang, share in LANGUAGES:
        if rng.random() < share * 2:
            skills[f"lang_{lang}"] = rng.randint(1, 5)
    idle = NOW - rng.uniform(0, 600)
    return Agent(f"a{n:04d}", role, skills, AgentState.AVAILABLE, idle, registered=True)


def make_call(rng: random.Random, n: int, enqueued_at: float) -> WaitingCall:
    queue = rng.choice([*TOPICS, "legal"])
    if queue == "legal":
        required = {"legal": rng.randint(3, 5)}
    else:
        required = {TOPICS[queue]: rng.randint(1, 3)}
    if rng.random() < 0.2:
        required[rng.choice(sorted(TOPICS.values()))] = rng.randint(1, 2)
    language = next((lang for lang, share in LANGUAGES if rng.random() < share), None)
    priority = rng.choices((0, 1, 5), weights=(88, 10, 2))[0]
    return WaitingCall(f"c{n:05d}", queue, required, priority, language, enqueued_at)


def percentiles(samples_ns: list[int]) -> str:
    ordered = sorted(samples_ns)
    p50 = ordered[len(ordered) // 2] / 1000
    p99 = ordered[int(len(ordered) * 0.99)] / 1000
    return f"p50 {p50:8.1f} µs   p99 {p99:8.1f} µs   max {ordered[-1] / 1000:8.1f} µs"


def timed(action: Callable[[], object]) -> int:
    start = time.perf_counter_ns()
    action()
    return time.perf_counter_ns() - start


@dataclass
class Population:
    rules: dict[str, QueueRules]
    agents: list[Agent]
    calls: list[WaitingCall]


def populate(rng: random.Random, n_agents: int, n_calls: int) -> Population:
    agents = [make_agent(rng, n) for n in range(n_agents)]
    calls = [make_call(rng, n, NOW - rng.uniform(0, 180)) for n in range(n_calls)]
    return Population(make_rules(), agents, calls)


def bench_policy(pop: Population, decisions: int, rng: random.Random) -> None:
    router = Router(pop.rules, pop.agents, pop.calls)
    arrivals = [make_call(rng, 100_000 + n, NOW) for n in range(decisions // 2)]
    freed = [rng.choice(pop.agents) for _ in range(decisions // 2)]
    agent_ns = [timed(partial(router.best_agent_for, c, NOW)) for c in arrivals]
    call_ns = [timed(partial(router.best_call_for, a, NOW)) for a in freed]
    both = agent_ns + call_ns
    total_s = sum(both) / 1e9
    print(f"  new call -> best agent  ({len(agent_ns):>6}): {percentiles(agent_ns)}")
    print(f"  agent free -> best call ({len(call_ns):>6}): {percentiles(call_ns)}")
    print(f"  all decisions           ({len(both):>6}): {percentiles(both)}")
    print(f"  throughput: {len(both) / total_s:,.0f} decisions/s (one thread)")
    bench_updates(router, pop, rng)
    spot_check(router, pop, arrivals[:200], freed[:200])


def bench_updates(router: Router, pop: Population, rng: random.Random) -> None:
    samples: list[int] = []
    for agent in rng.sample(pop.agents, 500):
        samples.append(timed(partial(cycle_agent, router, agent)))
    for call in rng.sample(pop.calls, 500):
        samples.append(timed(partial(cycle_call, router, call)))
    print(f"  index update (drop+put) ({len(samples):>6}): {percentiles(samples)}")


def cycle_agent(router: Router, agent: Agent) -> None:
    router.agents.drop(agent.id)
    router.agents.put(agent)


def cycle_call(router: Router, call: WaitingCall) -> None:
    router.calls.drop(call.call_id)
    router.calls.put(call)


def spot_check(
    router: Router, pop: Population, arrivals: list[WaitingCall], freed: list[Agent]
) -> None:
    # The figures mean nothing if the fast path answers differently from the reference.
    for call in arrivals:
        reference = choose_agent(call, pop.agents, pop.rules[call.queue], NOW)
        assert router.best_agent_for(call, NOW) == reference
    for agent in freed:
        assert router.best_call_for(agent, NOW) == choose_call(agent, pop.calls, pop.rules, NOW)
    print(f"  checked {len(arrivals) + len(freed)} decisions against the reference: identical")


def bench_redis(url: str, pop: Population, rounds: int, rng: random.Random) -> None:
    from acd.keys import AcdKeys
    from acd.store import AcdStore, connect

    clock = ManualClock(NOW)
    keys = AcdKeys(f"hotline:bench:{uuid.uuid4().hex[:8]}:acd:")
    store = AcdStore(connect(url), pop.rules, keys=keys, clock=clock)
    try:
        for agent in pop.agents:
            store.upsert_agent(agent)
        for call in pop.calls:
            store.enqueue(call)
        ping_ns = [timed(store.client.ping) for _ in range(1000)]
        print(f"  PING round trip (baseline)({len(ping_ns):>5}): {percentiles(ping_ns)}")
        run_redis_rounds(store, rounds, rng, clock)
    finally:
        print(f"  cleaned up {store.purge()} keys under {keys.prefix}")


class ManualClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def run_redis_rounds(
    store: AcdStore, rounds: int, rng: random.Random, clock: ManualClock
) -> None:
    call_ns: list[int] = []
    agent_ns: list[int] = []
    for n in range(rounds):
        clock.now += 0.01
        call = make_call(rng, 200_000 + n, clock.now)
        store.enqueue(call)
        start = time.perf_counter_ns()
        hit = store.try_match_call(call.call_id)
        call_ns.append(time.perf_counter_ns() - start)
        if hit is None:
            store.remove_call(call.call_id)
            continue
        free_seat(store, hit)
        start = time.perf_counter_ns()
        again = store.try_match_agent(hit.agent_id)
        agent_ns.append(time.perf_counter_ns() - start)
        if again is not None:
            free_seat(store, again)
    print(f"  try_match_call + assign  ({len(call_ns):>5}): {percentiles(call_ns)}")
    print(f"  try_match_agent + assign ({len(agent_ns):>5}): {percentiles(agent_ns)}")
    print(f"  {len(agent_ns)}/{rounds} new calls found a seat at once")


def free_seat(store: AcdStore, hit: Assignment) -> None:
    store.finish(hit.call_id, hit.agent_id)
    store.set_state(hit.agent_id, AgentState.AVAILABLE)


def machine() -> str:
    model = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return (
        f"machine: nproc={os.cpu_count()}, CPU {model}, Python {platform.python_version()} "
        f"({platform.python_implementation()}), {platform.system()} {platform.release()}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--decisions", type=int, default=20_000)
    parser.add_argument("--redis-rounds", type=int, default=2000)
    parser.add_argument("--redis-url", default=os.environ.get("HOTLINE_BENCH_REDIS_URL",
                                                              "redis://127.0.0.1:6379/15"))
    parser.add_argument("--no-redis", action="store_true")
    parser.add_argument("--seed", type=int, default=12351)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    print(machine())
    pop = populate(rng, args.agents, args.calls)
    print(f"policy: {args.agents} agents (all free), {args.calls} waiting calls, "
          f"{len(pop.rules)} queues with escalation; {args.decisions} decisions, "
          "timed one by one with perf_counter_ns, GC on")
    bench_policy(pop, args.decisions, rng)
    if not args.no_redis:
        print(f"redis: {args.redis_url}, same population loaded; each round enqueues a new call "
              "and times try_match_call, then frees that seat and times try_match_agent")
        bench_redis(args.redis_url, pop, args.redis_rounds, rng)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
