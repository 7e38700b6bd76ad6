"""Skill-based routing policy: which free seat takes which waiting call (pure, no I/O).

The plain functions (`eligible`, `choose_agent`, `choose_call`, `match`) are the reference
semantics. `SkillIndex`, `CallIndex` and `Router` answer the same questions from index
structures in well under a millisecond; property tests hold them to the reference.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Callable, Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any, TypeVar

from acd.model import (
    MIN_LEVEL,
    Agent,
    AgentState,
    EscalationStep,
    QueueRules,
    ReleaseOutcome,
    Role,
    WaitingCall,
    language_skill,
)

Levels = Mapping[str, int]
AgentRank = tuple[float, int, str]
CallRank = tuple[int, float, str]

_AFTER_RELEASE = {
    # A seat that let it ring out is probably away: pause it so the next caller isn't
    # sent to the same empty desk (Asterisk's autopause does the same).
    ReleaseOutcome.NO_ANSWER: AgentState.PAUSED,
    ReleaseOutcome.DECLINED: AgentState.AVAILABLE,
    ReleaseOutcome.FAILED: AgentState.PAUSED,
}


def rules_for(rules_by_queue: Mapping[str, QueueRules], queue: str) -> QueueRules:
    """The queue's rules; an unconfigured queue routes on skills alone, without escalation."""
    return rules_by_queue.get(queue) or QueueRules(name=queue)


def state_after_release(
    outcome: ReleaseOutcome, misses: int = 1, pause_after: int = 1
) -> AgentState:
    """Where a seat goes when its offer comes back. A seat that let `pause_after` offers in a
    row ring out is paused; before that it goes back to the end of the idle order, since one
    missed ring is often a headset put down for a moment."""
    if outcome is ReleaseOutcome.NO_ANSWER and misses < pause_after:
        return AgentState.AVAILABLE
    return _AFTER_RELEASE[outcome]


def _apply_step(required: Levels, step: EscalationStep) -> Levels:
    if step.any_operator:
        return {}
    relaxed = dict(required)
    if step.min_level_delta:
        relaxed = {s: max(MIN_LEVEL, lv + step.min_level_delta) for s, lv in relaxed.items()}
    if step.relax_to is not None:
        caps = step.relax_to
        relaxed = {s: min(lv, caps.get(s, lv)) for s, lv in relaxed.items()}
        relaxed = {s: lv for s, lv in relaxed.items() if lv > 0}
    return relaxed


def requirement_at(call: WaitingCall, rules: QueueRules, now: float) -> Levels:
    """The skill levels the call needs now, after the escalation steps its wait has reached."""
    waited = now - call.enqueued_at
    required: Levels = call.required
    for step in rules.escalation:
        if step.after_s > waited:
            break
        required = _apply_step(required, step)
    return required


def escalation_stages(call: WaitingCall, rules: QueueRules) -> list[Levels]:
    """Stage 0 is the call as asked; stage j holds after `rules.escalation[j-1].after_s`."""
    stages: list[Levels] = [call.required]
    for step in rules.escalation:
        stages.append(_apply_step(stages[-1], step))
    return stages


def _role_allows(agent: Agent, call: WaitingCall, rules: QueueRules) -> bool:
    # Lawyers are scarce: keep them for legal questions (judged on the call as asked, so an
    # escalated legal call still reaches them).
    return agent.role is not Role.LAWYER or rules.lawyers_take_non_legal or call.needs_legal


def _speaks(agent: Agent, call: WaitingCall) -> bool:
    return call.language is None or language_skill(call.language) in agent.skills


def _meets(skills: Levels, required: Levels) -> bool:
    return all(skills.get(skill, 0) >= level for skill, level in required.items())


def eligible(agent: Agent, call: WaitingCall, rules: QueueRules, now: float) -> bool:
    """May this seat be offered this call right now?"""
    return (
        agent.can_take_calls
        and _role_allows(agent, call, rules)
        and _speaks(agent, call)
        and _meets(agent.skills, requirement_at(call, rules, now))
    )


def total_level(agent: Agent, call: WaitingCall) -> int:
    """The seat's summed level on the skills the caller asked for (before escalation)."""
    return sum(agent.skills.get(skill, 0) for skill in call.required)


def agent_rank(agent: Agent, call: WaitingCall) -> AgentRank:
    """Lower is better: longest idle, then most skilled for this call, then seat id."""
    return (agent.idle_since, -total_level(agent, call), agent.id)


def call_rank(call: WaitingCall) -> CallRank:
    """Lower is served first: highest priority, then longest waiting, then call id."""
    return (-call.priority, call.enqueued_at, call.call_id)


def choose_agent(
    call: WaitingCall, agents: Iterable[Agent], rules: QueueRules, now: float
) -> Agent | None:
    """The best eligible seat for the call, or None."""
    candidates = [a for a in agents if eligible(a, call, rules, now)]
    return min(candidates, key=lambda a: agent_rank(a, call), default=None)


def order_calls(calls: Iterable[WaitingCall]) -> list[WaitingCall]:
    return sorted(calls, key=call_rank)


def choose_call(
    agent: Agent,
    calls: Iterable[WaitingCall],
    rules_by_queue: Mapping[str, QueueRules],
    now: float,
) -> WaitingCall | None:
    """The first waiting call, in serving order, that this seat may take."""
    for call in order_calls(calls):
        if eligible(agent, call, rules_for(rules_by_queue, call.queue), now):
            return call
    return None


def match(
    calls: Iterable[WaitingCall],
    agents: Iterable[Agent],
    rules_by_queue: Mapping[str, QueueRules],
    now: float,
) -> list[tuple[WaitingCall, Agent]]:
    """Offers for a batch: calls in serving order each take their best still-free seat."""
    free = list(agents)
    pairs: list[tuple[WaitingCall, Agent]] = []
    for call in order_calls(calls):
        agent = choose_agent(call, free, rules_for(rules_by_queue, call.queue), now)
        if agent is not None:
            pairs.append((call, agent))
            free = [a for a in free if a.id != agent.id]
    return pairs


# --- Indexed routing -------------------------------------------------------------------------

_IdleEntry = tuple[float, str]
_NO_AGENTS: list[_IdleEntry] = []


_Entry = TypeVar("_Entry", bound=tuple[Any, ...])


def _remove(entries: list[_Entry], entry: _Entry) -> None:
    at = bisect_left(entries, entry)
    if at < len(entries) and entries[at] == entry:
        del entries[at]


def _constraints(call: WaitingCall, required: Levels) -> dict[str, int]:
    """Required levels plus the caller's language as a level-1 skill."""
    needs = dict(required)
    if call.language is not None:
        lang = language_skill(call.language)
        needs[lang] = max(needs.get(lang, 0), MIN_LEVEL)
    return needs


class SkillIndex:
    """Seats that can take a call now, listed per (skill, level >= L) by (idle_since, id)."""

    def __init__(self, agents: Iterable[Agent] = ()) -> None:
        self._agents: dict[str, Agent] = {}
        self._all: list[_IdleEntry] = []
        self._by_level: dict[tuple[str, int], list[_IdleEntry]] = {}
        for agent in agents:
            self.put(agent)

    def __len__(self) -> int:
        return len(self._agents)

    def __contains__(self, agent_id: object) -> bool:
        return agent_id in self._agents

    def get(self, agent_id: str) -> Agent | None:
        return self._agents.get(agent_id)

    def put(self, agent: Agent) -> None:
        """Record the seat's latest state; only available, registered seats stay listed."""
        self.drop(agent.id)
        if not agent.can_take_calls:
            return
        self._agents[agent.id] = agent
        for entries in self._lists_of(agent, create=True):
            insort(entries, (agent.idle_since, agent.id))

    def drop(self, agent_id: str) -> Agent | None:
        agent = self._agents.pop(agent_id, None)
        if agent is not None:
            for entries in self._lists_of(agent, create=False):
                _remove(entries, (agent.idle_since, agent.id))
        return agent

    def _lists_of(self, agent: Agent, *, create: bool) -> list[list[_IdleEntry]]:
        keys = [(s, lv) for s, top in agent.skills.items() for lv in range(MIN_LEVEL, top + 1)]
        if create:
            return [self._all, *(self._by_level.setdefault(k, []) for k in keys)]
        return [self._all, *(self._by_level[k] for k in keys)]

    def _narrowest(self, needs: Levels) -> list[_IdleEntry]:
        # Walk the shortest list that every candidate must be on; the rest is checked per seat.
        lists = [self._by_level.get(item, _NO_AGENTS) for item in needs.items()]
        return min(lists, key=len, default=self._all)

    def best_for(self, call: WaitingCall, rules: QueueRules, now: float) -> Agent | None:
        """Same answer as `choose_agent(call, <listed seats>, rules, now)`."""
        needs = _constraints(call, requirement_at(call, rules, now))
        best: Agent | None = None
        best_rank: AgentRank | None = None
        for idle, agent_id in self._narrowest(needs):
            if best is not None and idle > best.idle_since:
                break  # listed by idle time: nobody further on can beat or tie the best
            agent = self._agents[agent_id]
            if not (_role_allows(agent, call, rules) and _meets(agent.skills, needs)):
                continue
            rank = agent_rank(agent, call)
            if best_rank is None or rank < best_rank:
                best, best_rank = agent, rank
        return best


_BucketKey = tuple[str, tuple[tuple[str, int], ...], str | None]
_WaitEntry = tuple[float, str]


@dataclass
class _Bucket:
    """Waiting calls that share queue, requirement and language, hence escalation stages."""

    rules: QueueRules
    needs_legal: bool
    stages: list[Levels]
    thresholds: list[float]
    # Skills still required at the last stage: a seat missing one never qualifies here.
    always_needed: frozenset[str]
    by_priority: dict[int, list[_WaitEntry]] = field(default_factory=dict)
    priorities: list[int] = field(default_factory=list)

    @classmethod
    def for_call(cls, call: WaitingCall, rules: QueueRules) -> _Bucket:
        stages: list[Levels] = [_constraints(call, lv) for lv in escalation_stages(call, rules)]
        thresholds = [0.0, *(step.after_s for step in rules.escalation)]
        return cls(rules, call.needs_legal, stages, thresholds, frozenset(stages[-1]))

    def head(self) -> CallRank | None:
        """The bucket's best call ignoring escalation: a bound on anything it can offer."""
        if not self.priorities:
            return None
        top = self.priorities[0]
        enqueued_at, call_id = self.by_priority[top][0]
        return (-top, enqueued_at, call_id)

    def add(self, call: WaitingCall) -> None:
        entries = self.by_priority.get(call.priority)
        if entries is None:
            entries = self.by_priority[call.priority] = []
            self.priorities = sorted(self.by_priority, reverse=True)
        insort(entries, (call.enqueued_at, call.call_id))

    def remove(self, call: WaitingCall) -> None:
        entries = self.by_priority[call.priority]
        _remove(entries, (call.enqueued_at, call.call_id))
        if not entries:
            del self.by_priority[call.priority]
            self.priorities = sorted(self.by_priority, reverse=True)

    def first_stage_for(self, agent: Agent) -> int | None:
        """The earliest escalation stage at which the seat qualifies (stages only relax)."""
        lawyer_welcome = self.needs_legal or self.rules.lawyers_take_non_legal
        if agent.role is Role.LAWYER and not lawyer_welcome:
            return None
        for stage, needs in enumerate(self.stages):
            if _meets(agent.skills, needs):
                return stage
        return None

    def best_for(self, agent: Agent, held: AbstractSet[str], now: float) -> CallRank | None:
        if not self.always_needed <= held:
            return None
        stage = self.first_stage_for(agent)
        return None if stage is None else self.best_from_stage(stage, now)

    def best_from_stage(self, stage: int, now: float) -> CallRank | None:
        """Best call that has waited into `stage`: per priority only the oldest can qualify."""
        after_s = self.thresholds[stage]
        for priority in self.priorities:
            enqueued_at, call_id = self.by_priority[priority][0]
            if stage == 0 or now - enqueued_at >= after_s:
                return (-priority, enqueued_at, call_id)
        return None


class CallIndex:
    """Waiting calls bucketed by (queue, requirement, language), each by priority and age.

    Buckets are kept in order of their best call, so a free seat reads them best-first and
    stops as soon as no unread bucket could hold a better call than the one it has found.
    """

    def __init__(
        self, rules_by_queue: Mapping[str, QueueRules], calls: Iterable[WaitingCall] = ()
    ) -> None:
        self._rules_by_queue = rules_by_queue
        self._calls: dict[str, WaitingCall] = {}
        self._buckets: dict[_BucketKey, _Bucket] = {}
        self._by_head: list[tuple[CallRank, _BucketKey]] = []
        for call in calls:
            self.put(call)

    def __len__(self) -> int:
        return len(self._calls)

    def __contains__(self, call_id: object) -> bool:
        return call_id in self._calls

    def get(self, call_id: str) -> WaitingCall | None:
        return self._calls.get(call_id)

    def calls(self) -> list[WaitingCall]:
        return list(self._calls.values())

    def put(self, call: WaitingCall) -> None:
        self.drop(call.call_id)
        key = _bucket_key(call)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = self._new_bucket(call)
        self._reorder(key, bucket, bucket.add, call)
        self._calls[call.call_id] = call

    def drop(self, call_id: str) -> WaitingCall | None:
        call = self._calls.pop(call_id, None)
        if call is None:
            return None
        key = _bucket_key(call)
        bucket = self._buckets[key]
        self._reorder(key, bucket, bucket.remove, call)
        if not bucket.priorities:
            del self._buckets[key]
        return call

    def _new_bucket(self, call: WaitingCall) -> _Bucket:
        return _Bucket.for_call(call, rules_for(self._rules_by_queue, call.queue))

    def _reorder(
        self,
        key: _BucketKey,
        bucket: _Bucket,
        change: Callable[[WaitingCall], None],
        call: WaitingCall,
    ) -> None:
        before = bucket.head()
        change(call)
        after = bucket.head()
        if before == after:
            return
        if before is not None:
            _remove(self._by_head, (before, key))
        if after is not None:
            insort(self._by_head, (after, key))

    def best_for(self, agent: Agent, now: float) -> WaitingCall | None:
        """Same answer as `choose_call(agent, <indexed calls>, rules_by_queue, now)`."""
        if not agent.can_take_calls:
            return None
        held = agent.skills.keys()
        best: CallRank | None = None
        for head, key in self._by_head:
            if best is not None and best < head:
                break  # a bucket's head is the best it holds; later heads are worse still
            bucket = self._buckets[key]
            rank = bucket.best_for(agent, held, now)
            if rank is not None and (best is None or rank < best):
                best = rank
        return None if best is None else self._calls[best[2]]


def _bucket_key(call: WaitingCall) -> _BucketKey:
    return (call.queue, tuple(sorted(call.required.items())), call.language)


class Router:
    """In-memory routing state: free seats and waiting calls, kept current from events."""

    def __init__(
        self,
        rules_by_queue: Mapping[str, QueueRules],
        agents: Iterable[Agent] = (),
        calls: Iterable[WaitingCall] = (),
    ) -> None:
        self.rules_by_queue = rules_by_queue
        self.agents = SkillIndex(agents)
        self.calls = CallIndex(rules_by_queue, calls)

    def best_agent_for(self, call: WaitingCall, now: float) -> Agent | None:
        """A call arrived (or escalated): the seat to offer it to."""
        return self.agents.best_for(call, rules_for(self.rules_by_queue, call.queue), now)

    def best_call_for(self, agent: Agent, now: float) -> WaitingCall | None:
        """A seat became free: the call to offer it."""
        return self.calls.best_for(agent, now)

    def match(self, now: float) -> list[tuple[WaitingCall, Agent]]:
        """Same answer as `match(<calls>, <seats>, rules_by_queue, now)`; indexes unchanged."""
        pairs: list[tuple[WaitingCall, Agent]] = []
        try:
            for call in order_calls(self.calls.calls()):
                if not len(self.agents):
                    break
                agent = self.best_agent_for(call, now)
                if agent is not None:
                    pairs.append((call, agent))
                    self.agents.drop(agent.id)
        finally:
            for _, agent in pairs:
                self.agents.put(agent)
        return pairs
