"""What a waiting caller is told and when the queue widens (pure, no I/O).

The estimated wait follows the usual call-center rule of thumb: the callers ahead share the
seats that could take them, each conversation lasting about the recent average handle time.
With no recent conversations the recent average wait stands in; with neither, no estimate.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

from acd.model import Agent, AgentState, QueueRules, Role, WaitingCall, language_skill
from acd.policy import escalation_stages

# Seats that will take calls again without anyone acting: logged in and not on a break.
_STAFFED = frozenset({AgentState.AVAILABLE, AgentState.RINGING, AgentState.ON_CALL,
                      AgentState.WRAP_UP})  # fmt: skip


def _mean(values: Sequence[float]) -> float | None:
    usable = [v for v in values if math.isfinite(v) and v >= 0]
    return sum(usable) / len(usable) if usable else None


def estimated_wait_s(
    position: int, handle_s: Sequence[float], waits_s: Sequence[float], staffed: int
) -> float | None:
    """Seconds until a seat takes the caller at `position` (1 = next), or None if unknown."""
    if position < 1:
        raise ValueError(f"position {position}: the first caller in line is 1")
    handle = _mean(handle_s)
    if handle is not None and staffed > 0:
        # The caller at position p waits for p conversations spread over the seats.
        return position * handle / staffed
    return _mean(waits_s)


def wait_minutes(seconds: float) -> int:
    """Minutes to announce: rounded up (a promise kept beats one broken), at least 1."""
    return max(1, math.ceil(seconds / 60))


def staffed_seats(agents: Iterable[Agent], call: WaitingCall, rules: QueueRules) -> int:
    """Seats logged in that could take this call at some escalation stage."""
    stages = escalation_stages(call, rules)
    lawyers_welcome = call.needs_legal or rules.lawyers_take_non_legal
    count = 0
    for agent in agents:
        if agent.state not in _STAFFED or (agent.role is Role.LAWYER and not lawyers_welcome):
            continue
        if call.language is not None and language_skill(call.language) not in agent.skills:
            continue
        if any(_meets(agent.skills, needs) for needs in stages):
            count += 1
    return count


def _meets(skills: Mapping[str, int], needs: Mapping[str, int]) -> bool:
    return all(skills.get(skill, 0) >= level for skill, level in needs.items())


def escalation_times(rules: QueueRules, waited_s: float) -> list[float]:
    """Seconds from now at which the call's requirement relaxes next (one per step to come);
    a timer at each re-matches the call, so nothing polls for escalation."""
    return [step.after_s - waited_s for step in rules.escalation if step.after_s > waited_s]
