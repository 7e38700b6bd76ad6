"""Automatic call distribution: skill-based routing of waiting callers to free seats.

`acd.model` and `acd.policy` are pure; `acd.store` persists the same state in Redis and
assigns atomically. Importing the package creates nothing and connects to nothing.
"""

from acd.model import (
    Agent,
    AgentState,
    CallStatus,
    EscalationStep,
    QueueRules,
    ReleaseOutcome,
    Role,
    Seat,
    WaitingCall,
)
from acd.policy import (
    CallIndex,
    Router,
    SkillIndex,
    choose_agent,
    choose_call,
    eligible,
    match,
    order_calls,
    requirement_at,
)

__all__ = [
    "Agent",
    "AgentState",
    "CallIndex",
    "CallStatus",
    "EscalationStep",
    "QueueRules",
    "ReleaseOutcome",
    "Role",
    "Router",
    "Seat",
    "SkillIndex",
    "WaitingCall",
    "choose_agent",
    "choose_call",
    "eligible",
    "match",
    "order_calls",
    "requirement_at",
]
