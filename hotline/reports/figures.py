"""Adding finished calls up: by hour of day, by day, per queue and per seat.

Definitions (the page and docs/screens.md repeat them):
- calls: every call that started in the period, IVR-only ones included;
- offered: calls that reached a queue (the caller asked for a person);
- connection rate (接通率) = answered / offered;
- abandonment rate = abandoned / offered (hung up while waiting or ringing);
- service level at T s = answered within T s of joining the queue / (answered + abandoned),
  the wallboard's live definition (`hotline.callevents.figures`), so the two agree;
- average handle time = (talk + wrap-up) / answered calls whose talk time is known; wrap-up is
  the ACD's configured wrap-up time, which holds every seat after each call;
- average speed of answer = wait of answered calls / answered.
A call is counted in the local hour and day it started.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

from hotline.reports.facts import CallFact, Period

SERVICE_LEVEL_TARGETS_S = (15, 20)
K = TypeVar("K")


def _ratio(part: float, whole: float) -> float | None:
    return None if whole == 0 else part / whole


@dataclass
class Tally:
    calls: int = 0
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    answered_within: dict[int, int] = field(
        default_factory=lambda: dict.fromkeys(SERVICE_LEVEL_TARGETS_S, 0)
    )
    answer_wait_s: float = 0.0
    handle_s: float = 0.0  # talk + wrap-up of the answered calls whose talk is known
    handled: int = 0
    talk_s: float = 0.0

    def add(self, fact: CallFact, wrap_up_s: float) -> None:
        self.calls += 1
        self.offered += fact.offered
        self.abandoned += fact.abandoned
        if not fact.answered:
            return
        self.answered += 1
        wait = fact.wait_s or 0.0
        self.answer_wait_s += wait
        for target in self.answered_within:
            self.answered_within[target] += wait <= target
        if fact.talk_s is not None:
            self.handled += 1
            self.talk_s += fact.talk_s
            self.handle_s += fact.talk_s + wrap_up_s

    @property
    def connection_rate(self) -> float | None:
        return _ratio(self.answered, self.offered)

    @property
    def abandon_rate(self) -> float | None:
        return _ratio(self.abandoned, self.offered)

    def service_level(self, target_s: int) -> float | None:
        return _ratio(self.answered_within[target_s], self.answered + self.abandoned)

    @property
    def average_handle_s(self) -> float | None:
        return _ratio(self.handle_s, self.handled)

    @property
    def average_talk_s(self) -> float | None:
        return _ratio(self.talk_s, self.handled)

    @property
    def average_answer_s(self) -> float | None:
        return _ratio(self.answer_wait_s, self.answered)


@dataclass(frozen=True)
class Report:
    period: Period
    queue: str | None  # the filter, None for every queue
    total: Tally
    by_hour: list[Tally]  # 24 entries, hour of day 0-23 over the whole period
    by_day: dict[date, Tally]  # every day of the period, in order
    by_queue: dict[str, Tally]
    by_agent: dict[str, Tally]
    wrap_up_s: float


def build(
    facts: Iterable[CallFact], period: Period, *, wrap_up_s: float, queue: str | None = None
) -> Report:
    """The period's figures; facts outside the period or (with `queue`) other queues are left
    out, so a caller may pass a generous selection."""
    chosen = [f for f in facts if period.holds(f.started_at) and _in_queue(f, queue)]
    by_hour = _grouped(chosen, wrap_up_s, lambda f: period.local(f.started_at).hour)
    by_day = _grouped(chosen, wrap_up_s, lambda f: period.local(f.started_at).date())
    return Report(
        period=period,
        queue=queue,
        total=_sum(chosen, wrap_up_s),
        by_hour=[by_hour.get(h, Tally()) for h in range(24)],
        by_day={d: by_day.get(d, Tally()) for d in period.dates()},
        by_queue=_sorted(_grouped([f for f in chosen if f.queue], wrap_up_s, _queue_of)),
        by_agent=_sorted(_grouped([f for f in chosen if f.agent], wrap_up_s, _agent_of)),
        wrap_up_s=wrap_up_s,
    )


def _in_queue(fact: CallFact, queue: str | None) -> bool:
    return queue is None or fact.queue == queue


def _queue_of(fact: CallFact) -> str:
    return fact.queue or ""


def _agent_of(fact: CallFact) -> str:
    return fact.agent or ""


def _sum(facts: Iterable[CallFact], wrap_up_s: float) -> Tally:
    tally = Tally()
    for fact in facts:
        tally.add(fact, wrap_up_s)
    return tally


def _grouped(
    facts: Iterable[CallFact], wrap_up_s: float, key: Callable[[CallFact], K]
) -> dict[K, Tally]:
    groups: dict[K, Tally] = {}
    for fact in facts:
        groups.setdefault(key(fact), Tally()).add(fact, wrap_up_s)
    return groups


def _sorted(groups: Mapping[str, Tally]) -> dict[str, Tally]:
    return {name: groups[name] for name in sorted(groups)}
