"""A simulated call for the admin's keypad: the same FlowRun the FastAGI server drives.

The walk is its inputs: replaying them through a fresh FlowRun gives the same path every
time, so the browser only carries the list of inputs (and the keys typed so far for a
multi-digit prompt) and the server never keeps call state. Pure: no clock, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from ivr.flow.engine import (
    Ask,
    Digits,
    Finish,
    FlowRun,
    Handoff,
    Instruction,
    Outcome,
    PathStep,
    Play,
    Played,
    Prompt,
    SayDigits,
)
from ivr.flow.model import DTMF_KEYS, HANDOFF_OUTCOMES, Flow, HandoffNode

MAX_WALK_INPUTS = 100
TIMEOUT = ""  # the caller pressed nothing before the prompt's timeout


class WalkInputError(ValueError):
    """An input the node that waits can't take (a key that is not a key, an unknown outcome)."""


@dataclass(frozen=True)
class Heard:
    """One instruction of the call as the admin sees it: where, what was said, what it waits for."""

    node: str
    kind: str  # play, ask, say_digits, handoff, finish
    prompts: tuple[Prompt, ...]
    digits: str = ""  # read back to the caller (say_digits)
    outcomes: tuple[str, ...] = ()  # a handoff's choices
    result: str = ""  # how the call ended (finish)


@dataclass(frozen=True)
class Walk:
    """A simulated call after its inputs: what was heard, where it is, what it knows."""

    inputs: tuple[str, ...]
    heard: tuple[Heard, ...]
    path: tuple[PathStep, ...]
    variables: Mapping[str, str]
    language: str
    finished: bool
    result: str | None
    waiting: Heard | None  # the instruction that waits for the next input
    max_digits: int = 1
    terminator: str | None = None
    typed: str = ""  # keys of a multi-digit prompt not yet sent

    @property
    def node(self) -> str | None:
        return None if self.waiting is None else self.waiting.node


@dataclass(frozen=True)
class WalkStart:
    """Who calls and when: the business-hours clock of the simulated call."""

    clock: datetime
    caller: str = "13800138000"
    variables: Mapping[str, str] = field(default_factory=dict)


def _heard(run: FlowRun, instruction: Instruction) -> Heard:
    node = run.node_id
    match instruction:
        case Play(prompts=prompts):
            return Heard(node, "play", prompts)
        case Ask(prompts=prompts):
            return Heard(node, "ask", prompts)
        case SayDigits(digits=digits, intro=intro, then=then):
            return Heard(node, "say_digits", (*intro, *then.prompts), digits=digits)
        case Handoff(kind=kind, outcomes=outcomes):
            known = outcomes or tuple(sorted(HANDOFF_OUTCOMES.get(kind, ())))
            return Heard(node, "handoff", (), outcomes=known)
    assert isinstance(instruction, Finish)
    return Heard(node, "finish", instruction.prompts, result=instruction.result)


def _reply(instruction: Instruction, value: str) -> Digits | Outcome:
    if isinstance(instruction, Handoff):
        allowed = HANDOFF_OUTCOMES.get(instruction.kind, frozenset())
        if value not in allowed:
            names = ", ".join(sorted(allowed))
            raise WalkInputError(f"'{value}' is not an outcome of {instruction.kind} ({names})")
        return Outcome(value)
    if any(key not in DTMF_KEYS for key in value):
        raise WalkInputError(f"'{value}' is not keypad keys (0-9, * and #)")
    return Digits(value)


def walk(flow: Flow, start: WalkStart, inputs: Sequence[str], typed: str = "") -> Walk:
    """Replay `inputs` (keys for a prompt, '' for a timeout, an outcome for a handoff)."""
    if len(inputs) > MAX_WALK_INPUTS:
        raise WalkInputError(f"a walk takes at most {MAX_WALK_INPUTS} inputs; start again")
    run = FlowRun(flow, clock=start.clock, caller=start.caller, variables=start.variables)
    instruction: Instruction = run.start(0)
    heard: list[Heard] = []
    pending = iter(inputs)
    used: list[str] = []
    while True:
        heard.append(_heard(run, instruction))
        if isinstance(instruction, Finish):
            break
        if isinstance(instruction, Play):
            instruction = run.resume(Played(), 0)
            continue
        value = next(pending, None)
        if value is None:
            break
        instruction = run.resume(_reply(instruction, value), 0)
        used.append(value)
    waiting = None if run.finished else heard[-1]
    ask = run.pending.then if isinstance(run.pending, SayDigits) else run.pending
    max_digits = ask.max_digits if isinstance(ask, Ask) else 1
    return Walk(
        inputs=tuple(used),
        heard=tuple(heard),
        path=tuple(run.path),
        variables=run.variables,
        language=run.language,
        finished=run.finished,
        result=run.result,
        waiting=waiting,
        max_digits=max_digits,
        terminator=ask.terminator if isinstance(ask, Ask) else None,
        typed=typed if not run.finished and max_digits > 1 else "",
    )


def press(flow: Flow, start: WalkStart, current: Walk, key: str) -> Walk:
    """The caller presses one key, or lets the prompt time out (key == TIMEOUT).

    A one-key prompt takes the key at once; a digit prompt gathers keys until its terminator
    or its last digit, as GET DATA does, and a timeout sends what was typed so far.
    """
    if current.finished:
        raise WalkInputError("the call has ended; start again")
    if current.waiting is not None and current.waiting.kind == "handoff":
        raise WalkInputError("a handoff waits for an outcome, not a key")
    if key != TIMEOUT and (len(key) != 1 or key not in DTMF_KEYS):
        raise WalkInputError(f"'{key}' is not one keypad key (0-9, * or #)")
    if key == TIMEOUT or current.max_digits == 1:
        return walk(flow, start, (*current.inputs, current.typed if key == TIMEOUT else key))
    typed = current.typed + key
    if key == current.terminator or len(typed) >= current.max_digits:
        return walk(flow, start, (*current.inputs, typed))
    return replace(current, typed=typed)


def choose(flow: Flow, start: WalkStart, current: Walk, outcome: str) -> Walk:
    """A handoff (queue, callback, message...) ends with `outcome`, as its adapter would say."""
    waiting = current.waiting
    if waiting is None or waiting.kind != "handoff":
        raise WalkInputError("no handoff is waiting for an outcome")
    node = flow.node(waiting.node)
    if isinstance(node, HandoffNode) and outcome not in waiting.outcomes:
        raise WalkInputError(f"'{outcome}' is not one of {', '.join(waiting.outcomes)}")
    return walk(flow, start, (*current.inputs, outcome))
