"""IVR flows as data: the model, its validator, the pure engine that runs it and opening hours."""

from ivr.flow.engine import (
    Ask,
    Digits,
    Finish,
    FlowProtocolError,
    FlowRun,
    Handoff,
    Instruction,
    Outcome,
    PathStep,
    Play,
    Played,
    Prompt,
    Reply,
    SayDigits,
    simulate,
)
from ivr.flow.hours import describe_day, is_open
from ivr.flow.model import HANDOFF_OUTCOMES, Flow, Schedule, register_handoff
from ivr.flow.validate import (
    FlowInvalid,
    FlowIssue,
    check_flow,
    load_flow,
    validate_flow,
    validate_flow_text,
)

__all__ = [
    "HANDOFF_OUTCOMES",
    "Ask",
    "Digits",
    "Finish",
    "Flow",
    "FlowInvalid",
    "FlowIssue",
    "FlowProtocolError",
    "FlowRun",
    "Handoff",
    "Instruction",
    "Outcome",
    "PathStep",
    "Play",
    "Played",
    "Prompt",
    "Reply",
    "SayDigits",
    "Schedule",
    "check_flow",
    "describe_day",
    "is_open",
    "load_flow",
    "register_handoff",
    "simulate",
    "validate_flow",
    "validate_flow_text",
]
