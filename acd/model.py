"""ACD domain model: seats (agents), waiting calls and each queue's routing rules.

Plain frozen values with no I/O; the policy decides on them and the store persists them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

MIN_LEVEL = 1
MAX_LEVEL = 5
LEGAL_SKILL = "legal"
LANGUAGE_SKILL_PREFIX = "lang_"


class AgentState(StrEnum):
    OFFLINE = "offline"
    AVAILABLE = "available"
    RINGING = "ringing"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"
    PAUSED = "paused"


class Role(StrEnum):
    OPERATOR = "operator"
    LAWYER = "lawyer"
    SUPERVISOR = "supervisor"


class CallStatus(StrEnum):
    WAITING = "waiting"
    OFFERED = "offered"


class ReleaseOutcome(StrEnum):
    """Why an offered call came back unanswered; decides where the seat goes next."""

    NO_ANSWER = "no_answer"
    DECLINED = "declined"
    FAILED = "failed"


def language_skill(language: str) -> str:
    """The skill a seat holds to take calls in this language (`en` -> `lang_en`)."""
    return f"{LANGUAGE_SKILL_PREFIX}{language}"


def _checked_levels(levels: Mapping[str, int], low: int, what: str) -> dict[str, int]:
    # A copy, so a caller mutating its dict later can't reorder a live index behind our back.
    for skill, level in levels.items():
        if not low <= level <= MAX_LEVEL:
            raise ValueError(f"{what} {skill}={level}: level must be {low}..{MAX_LEVEL}")
    return dict(levels)


@dataclass(frozen=True, slots=True)
class Agent:
    """A seat: one person at one softphone, with skill levels 1..5 (e.g. legal:5, lang_en:1)."""

    id: str
    role: Role
    skills: Mapping[str, int]
    state: AgentState = AgentState.OFFLINE
    idle_since: float = 0.0
    registered: bool = False
    current_call: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "skills", _checked_levels(self.skills, MIN_LEVEL, "skill"))
        if not math.isfinite(self.idle_since):
            raise ValueError(f"idle_since={self.idle_since}: must be epoch seconds")

    @property
    def can_take_calls(self) -> bool:
        # AMI says whether the softphone is registered; an unregistered seat would ring nowhere.
        return self.state is AgentState.AVAILABLE and self.registered


Seat = Agent


@dataclass(frozen=True, slots=True)
class WaitingCall:
    """A caller in a queue. `required` maps skill -> minimum level; `language` None = Mandarin."""

    call_id: str
    queue: str
    required: Mapping[str, int]
    priority: int = 0
    language: str | None = None
    enqueued_at: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "required", _checked_levels(self.required, MIN_LEVEL, "required"))
        if not math.isfinite(self.enqueued_at) or self.enqueued_at < 0:
            raise ValueError(f"enqueued_at={self.enqueued_at}: must be epoch seconds")

    @property
    def needs_legal(self) -> bool:
        return LEGAL_SKILL in self.required


@dataclass(frozen=True, slots=True)
class EscalationStep:
    """After `after_s` seconds of waiting, widen who may take the call.

    Steps apply cumulatively in time order (like Asterisk queuerules' relative penalty changes)
    and only ever relax, so a seat that could take a call keeps being able to as it waits.
    `min_level_delta` (<= 0) lowers every required level, floored at 1; `relax_to` caps the
    named skills' levels (0 drops the skill); `any_operator` drops every skill requirement.
    The caller's language is never relaxed: a seat that can't talk to the caller can't help.
    """

    after_s: float
    min_level_delta: int | None = None
    relax_to: Mapping[str, int] | None = None
    any_operator: bool = False

    def __post_init__(self) -> None:
        if not math.isfinite(self.after_s) or self.after_s < 0:
            raise ValueError(f"after_s={self.after_s}: must be seconds >= 0")
        if self.min_level_delta is not None and self.min_level_delta > 0:
            raise ValueError("min_level_delta must be <= 0: escalation only relaxes")
        if self.relax_to is not None:
            object.__setattr__(self, "relax_to", _checked_levels(self.relax_to, 0, "relax_to"))
        if not (self.min_level_delta or self.relax_to or self.any_operator):
            raise ValueError("an escalation step must relax something")


@dataclass(frozen=True, slots=True)
class QueueRules:
    """How one queue routes: its escalation steps, lawyer policy and wrap-up time."""

    name: str
    escalation: Sequence[EscalationStep] = ()
    lawyers_take_non_legal: bool = False
    wrap_up_s: float = 15.0

    def __post_init__(self) -> None:
        steps = tuple(sorted(self.escalation, key=lambda step: step.after_s))
        object.__setattr__(self, "escalation", steps)


def rules_to_json(rules: QueueRules) -> str:
    """One queue's rules as JSON, for the processes that did not load the flow themselves."""
    steps = [
        {
            "after_s": s.after_s,
            "min_level_delta": s.min_level_delta,
            "relax_to": dict(s.relax_to) if s.relax_to is not None else None,
            "any_operator": s.any_operator,
        }
        for s in rules.escalation
    ]
    return json.dumps(
        {
            "name": rules.name,
            "escalation": steps,
            "lawyers_take_non_legal": rules.lawyers_take_non_legal,
            "wrap_up_s": rules.wrap_up_s,
        },
        sort_keys=True,
    )


def rules_from_json(text: str) -> QueueRules:
    data = json.loads(text)
    steps = tuple(
        EscalationStep(
            after_s=float(s["after_s"]),
            min_level_delta=s.get("min_level_delta"),
            relax_to=s.get("relax_to"),
            any_operator=bool(s.get("any_operator", False)),
        )
        for s in data.get("escalation", ())
    )
    return QueueRules(
        name=str(data["name"]),
        escalation=steps,
        lawyers_take_non_legal=bool(data.get("lawyers_take_non_legal", False)),
        wrap_up_s=float(data.get("wrap_up_s", 15.0)),
    )
