"""The pure flow engine: given where a call is and what the caller did, the next instruction."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from hotline.workdays import NO_OVERRIDES, Overrides
from ivr.flow.hours import is_open
from ivr.flow.model import (
    DTMF_KEYS,
    HANDOFF_OUTCOMES,
    OPERATOR_KEY,
    AnyNode,
    CollectNode,
    Flow,
    GotoNode,
    HandoffNode,
    HangupNode,
    HoursNode,
    LanguageNode,
    MenuNode,
    PlayNode,
    SetNode,
    register_handoff,
)
from ivr.flow.validate import keypad_pattern_matches, queue_of

__all__ = [
    "HANDOFF_OUTCOMES",
    "Ask",
    "Digits",
    "Finish",
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
    "register_handoff",
    "simulate",
]

MAX_INPUTS = 200
MAX_RECORDED_INPUT = 64  # keeps a key-mashing caller from bloating the work order


class FlowProtocolError(Exception):
    """The adapter answered an instruction with the wrong kind of reply (a bug, not a caller)."""


@dataclass(frozen=True)
class Prompt:
    """One prompt text in one language, already filled with the run's variables."""

    id: str
    language: str
    text: str


@dataclass(frozen=True)
class Play:
    """Play these prompts without listening for keys; reply Played()."""

    prompts: tuple[Prompt, ...]


@dataclass(frozen=True)
class Ask:
    """Play the prompts with barge-in and read up to max_digits keys; reply Digits(value).

    The adapter stops reading at `terminator` and leaves it out; '' means the caller timed out.
    """

    prompts: tuple[Prompt, ...]
    max_digits: int
    timeout_s: float
    terminator: str | None


@dataclass(frozen=True)
class SayDigits:
    """Play `intro`, say `digits` one by one in `language`, then run `then`; reply Digits."""

    digits: str
    language: str
    then: Ask
    intro: tuple[Prompt, ...] = ()


@dataclass(frozen=True)
class Handoff:
    """Hand the call to the adapter registered for `kind`; reply Outcome(name)."""

    kind: str
    node_id: str
    params: Mapping[str, Any]
    language: str
    variables: Mapping[str, str]
    # The outcomes this node routes (its `on` keys): an adapter with optional outcomes (a
    # speech node's categories) answers one the flow goes on with.
    outcomes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Finish:
    """Play the prompts, then hang up: the run is over."""

    result: str
    prompts: tuple[Prompt, ...] = ()


@dataclass(frozen=True)
class Played:
    """The adapter finished a Play."""


@dataclass(frozen=True)
class Digits:
    """The keys the caller pressed for an Ask or SayDigits; '' is a timeout."""

    value: str


@dataclass(frozen=True)
class Outcome:
    """How a handoff ended, plus anything it learned (e.g. order_status)."""

    name: str
    variables: Mapping[str, str] = field(default_factory=dict)


Instruction = Play | Ask | SayDigits | Handoff | Finish
Reply = Played | Digits | Outcome
_EXPECTED_REPLY: dict[type, type] = {Play: Played, Ask: Digits, SayDigits: Digits, Handoff: Outcome}


@dataclass(frozen=True)
class PathStep:
    """One visit to one node: the caller's keys and what came of them (for the work order)."""

    node: str
    type: str
    input: str | None
    outcome: str | None
    at_ms: int


def _fill(text: str, variables: Mapping[str, str]) -> str:
    # Missing variables are spoken as nothing rather than as "{order_status}".
    return re.sub(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", lambda m: variables.get(m[1], ""), text)


def _recorded(keys: str) -> str:
    return keys[:MAX_RECORDED_INPUT]


def _entered_digits(raw: str, node: CollectNode) -> str:
    keys = raw.split(node.terminator, 1)[0] if node.terminator else raw
    return keys[: node.max_digits]


def _acceptable(digits: str, node: CollectNode) -> bool:
    if len(digits) < node.min_digits or any(key not in DTMF_KEYS for key in digits):
        return False
    if node.pattern is None:
        return True
    verdict = keypad_pattern_matches(node.pattern, digits)
    # Only an unvalidated flow can hold a pattern the automaton refuses.
    return verdict if verdict is not None else re.fullmatch(node.pattern, digits) is not None


class FlowRun:
    """One caller's walk through a flow. Feed it replies; it never reads a clock or a socket."""

    def __init__(
        self,
        flow: Flow,
        *,
        clock: datetime,
        caller: str = "",
        variables: Mapping[str, str] | None = None,
        max_steps: int = 500,
        max_inputs: int = MAX_INPUTS,
        workday_overrides: Overrides = NO_OVERRIDES,
    ) -> None:
        if clock.tzinfo is None or clock.utcoffset() is None:
            raise ValueError("clock must be time-zone aware")
        self._flow = flow
        self._overrides = workday_overrides
        self._clock = clock
        self._caller = caller
        self._variables: dict[str, str] = {"caller": caller} if caller else {}
        self._variables.update(variables or {})
        self._language = flow.default_language
        self._max_steps = max_steps
        self._max_inputs = max_inputs
        self._path: list[PathStep] = []
        self._pending: Instruction | None = None
        self._node_id = flow.start
        self._started = False
        self._result: str | None = None
        self._failures = 0
        self._confirming: str | None = None
        self._steps = 0
        self._inputs = 0
        self._now_ms = 0

    @property
    def language(self) -> str:
        return self._language

    @property
    def variables(self) -> Mapping[str, str]:
        return dict(self._variables)

    @property
    def caller(self) -> str:
        return self._caller

    @property
    def finished(self) -> bool:
        return self._result is not None

    @property
    def result(self) -> str | None:
        return self._result

    @property
    def path(self) -> list[PathStep]:
        return list(self._path)

    @property
    def pending(self) -> Instruction | None:
        """The instruction waiting for a reply; None before start and after Finish."""
        return self._pending

    @property
    def node_id(self) -> str:
        return self._node_id

    def path_as_dicts(self) -> list[dict[str, Any]]:
        return [asdict(step) for step in self._path]

    def start(self, elapsed_ms: int = 0) -> Instruction:
        if self._started:
            raise FlowProtocolError("the run has already started")
        self._started = True
        self._now_ms = elapsed_ms
        return self._enter(self._flow.start)

    def resume(self, result: Reply, elapsed_ms: int) -> Instruction:
        pending = self._check_reply(result)
        self._now_ms = elapsed_ms
        if isinstance(result, Played):
            return self._after_play()
        self._inputs += 1
        self._steps = 0
        if self._inputs >= self._max_inputs:
            self._record_close(getattr(result, "value", None), "input_limit")
            return self._finish("input_limit")
        if isinstance(result, Outcome):
            return self._on_outcome(result)
        assert isinstance(result, Digits)
        return self._on_digits(pending, result.value)

    def _check_reply(self, result: Reply) -> Instruction:
        pending = self._pending
        if pending is None:
            state = "finished" if self.finished else "not started"
            raise FlowProtocolError(f"the run is {state}; nothing is waiting for a reply")
        expected = _EXPECTED_REPLY[type(pending)]
        if not isinstance(result, expected):
            kind = type(pending).__name__
            raise FlowProtocolError(f"{kind} expects {expected.__name__}, got {result!r}")
        if isinstance(result, Outcome):
            self._check_outcome(result)
        return pending

    def _check_outcome(self, outcome: Outcome) -> None:
        node = self._current()
        kind = node.type if isinstance(node, HandoffNode) else ""
        if outcome.name not in HANDOFF_OUTCOMES.get(kind, frozenset()):
            raise FlowProtocolError(f"'{outcome.name}' is not an outcome of handoff '{kind}'")

    # -- entering nodes ----------------------------------------------------------------------

    def _enter(self, node_id: str) -> Instruction:
        target = node_id
        while True:
            if self._steps >= self._max_steps:
                return self._finish("loop_guard")
            self._steps += 1
            node = self._flow.node(target)
            if node is None:
                return self._finish("flow_error")
            self._node_id = target
            step = self._visit(node)
            if isinstance(step, str):
                target = step
                continue
            return step

    def _visit(self, node: AnyNode) -> Instruction | str:
        match node:
            case PlayNode():
                self._open_step()
                return self._issue(Play(self._prompts(node.prompt)))
            case MenuNode() | CollectNode() | LanguageNode():
                self._failures = 0
                self._open_step()
                return self._issue(self._ask(node))
            case HangupNode():
                self._record(None, node.result)
                return self._finish(node.result, self._prompts(node.prompt))
            case HandoffNode():
                self._open_step()
                return self._issue(self._handoff(node))
        return self._pass_through(node)

    def _pass_through(self, node: HoursNode | SetNode | GotoNode) -> Instruction | str:
        match node:
            case HoursNode():
                return self._hours(node)
            case SetNode():
                self._variables.update(node.variables)
                self._record(None, "set")
                return node.next
        self._record(None, "goto")
        return node.target

    def _hours(self, node: HoursNode) -> Instruction | str:
        schedule = self._flow.schedules.get(node.schedule)
        if schedule is None:
            return self._finish("flow_error")
        moment = self._clock + timedelta(milliseconds=self._now_ms)
        staffed = is_open(
            schedule, moment, default_timezone=self._flow.timezone, overrides=self._overrides
        )
        self._record(None, "open" if staffed else "closed")
        return node.open if staffed else node.closed

    def _handoff(self, node: HandoffNode) -> Handoff:
        params = {key: list(v) if isinstance(v, list) else v for key, v in node.params.items()}
        return Handoff(
            node.type, self._node_id, params, self._language, dict(self._variables), tuple(node.on)
        )

    # -- prompts -----------------------------------------------------------------------------

    def _prompts(self, ids: Sequence[str], languages: Sequence[str] = ()) -> tuple[Prompt, ...]:
        chosen = languages or (self._language,)
        return tuple(Prompt(pid, lang, self._text(pid, lang)) for lang in chosen for pid in ids)

    def _text(self, prompt_id: str, language: str) -> str:
        texts = self._flow.prompts.get(prompt_id, {})
        raw = texts.get(language) or texts.get(self._flow.default_language, "")
        return _fill(raw, self._variables)

    def _ask(self, node: MenuNode | CollectNode | LanguageNode, lead: str = "") -> Ask:
        lead_ids: tuple[str, ...] = ()
        if lead == "invalid":
            lead_ids = node.invalid_prompt
        elif lead == "timeout":
            lead_ids = node.invalid_prompt if node.timeout_prompt is None else node.timeout_prompt
        # The caller has not picked a language yet, so the choice is offered in every one.
        languages = self._flow.languages if isinstance(node, LanguageNode) else ()
        prompts = self._prompts((*lead_ids, *node.prompt), languages)
        if isinstance(node, CollectNode):
            return Ask(prompts, node.max_digits, node.timeout_s, node.terminator)
        return Ask(prompts, 1, node.timeout_s, None)

    # -- caller input ------------------------------------------------------------------------

    def _on_digits(self, pending: Instruction, keys: str) -> Instruction:
        node = self._current()
        if isinstance(pending, SayDigits) and isinstance(node, CollectNode):
            return self._on_confirm(node, keys)
        if isinstance(node, MenuNode):
            return self._on_menu(node, keys)
        if isinstance(node, LanguageNode):
            return self._on_language(node, keys)
        assert isinstance(node, CollectNode)
        return self._on_collect(node, keys)

    def _on_menu(self, node: MenuNode, key: str) -> Instruction:
        if key == "":
            return self._retry_or_exit(node, "timeout", key)
        target = node.choices.get(key)
        if target is None and key == OPERATOR_KEY:
            self._record_close(key, "operator")
            return self._enter(self._flow.operator)
        if target is None:
            return self._retry_or_exit(node, "invalid", key)
        self._record_close(key, "choice")
        return self._enter(target)

    def _on_language(self, node: LanguageNode, key: str) -> Instruction:
        language = node.choices.get(key)
        if language is None or language not in self._flow.languages:
            return self._retry_or_exit(node, "timeout" if key == "" else "invalid", key)
        self._language = language
        self._record_close(key, f"language:{language}")
        return self._enter(node.next)

    def _on_collect(self, node: CollectNode, raw: str) -> Instruction:
        if raw == "":
            return self._retry_or_exit(node, "timeout", raw)
        digits = _entered_digits(raw, node)
        if not _acceptable(digits, node):
            return self._retry_or_exit(node, "invalid", raw)
        if node.confirm is None:
            return self._accept(node, digits, digits, "accepted")
        self._confirming = digits
        self._record_close(digits, "read_back")
        self._open_step()
        confirm = Ask(self._prompts(node.confirm.prompt), 1, node.timeout_s, None)
        intro = self._prompts(node.confirm.intro)
        return self._issue(SayDigits(digits, self._language, confirm, intro))

    def _on_confirm(self, node: CollectNode, key: str) -> Instruction:
        assert node.confirm is not None
        digits, self._confirming = self._confirming or "", None
        if key == node.confirm.yes:
            return self._accept(node, digits, key, "confirmed")
        failure = "rejected" if key == node.confirm.no else "timeout" if key == "" else "invalid"
        return self._retry_or_exit(node, failure, key)

    def _accept(self, node: CollectNode, digits: str, keys: str, outcome: str) -> Instruction:
        self._variables[node.variable] = digits
        self._record_close(keys, outcome)
        return self._enter(node.next)

    def _retry_or_exit(
        self, node: MenuNode | CollectNode | LanguageNode, failure: str, keys: str
    ) -> Instruction:
        self._failures += 1
        if self._failures >= node.max_tries:
            self._record_close(keys, f"{failure}_max_tries")
            return self._enter(self._exit_of(node, failure))
        self._record_close(keys, failure)
        self._open_step()
        return self._issue(self._ask(node, lead=failure))

    def _exit_of(self, node: MenuNode | CollectNode | LanguageNode, failure: str) -> str:
        if isinstance(node, LanguageNode):
            return node.next
        explicit = None
        if isinstance(node, MenuNode):
            explicit = node.on_timeout if failure == "timeout" else node.on_invalid
        # Validation requires an exit; the operator is the safe fallback for unchecked flows.
        return explicit or node.on_exit or self._flow.operator

    def _on_outcome(self, outcome: Outcome) -> Instruction:
        node = self._current()
        assert isinstance(node, HandoffNode)
        self._variables.update({str(k): str(v) for k, v in outcome.variables.items()})
        self._record_close(None, outcome.name)
        target = node.on.get(outcome.name) or _overflow_target(self._flow, node, outcome)
        if target is None:
            return self._finish(f"{node.type}_{outcome.name}")
        return self._enter(target)

    def _after_play(self) -> Instruction:
        node = self._current()
        assert isinstance(node, PlayNode)
        self._record_close(None, "played")
        return self._enter(node.next)

    # -- bookkeeping -------------------------------------------------------------------------

    def _current(self) -> AnyNode | None:
        return self._flow.node(self._node_id)

    def _issue(self, instruction: Instruction) -> Instruction:
        self._pending = instruction
        return instruction

    def _finish(self, result: str, prompts: tuple[Prompt, ...] = ()) -> Finish:
        self._result = result
        self._pending = None
        return Finish(result, prompts)

    def _open_step(self) -> None:
        node = self._current()
        kind = node.type if node is not None else "unknown"
        self._path.append(PathStep(self._node_id, kind, None, None, self._now_ms))

    def _record_close(self, keys: str | None, outcome: str) -> None:
        last = self._path[-1]
        keys = None if keys is None else _recorded(keys)
        self._path[-1] = replace(last, input=keys, outcome=outcome)

    def _record(self, keys: str | None, outcome: str) -> None:
        self._open_step()
        self._record_close(keys, outcome)


def _simulated_outcome(flow: Flow, handoff: Handoff, outcomes: Mapping[str, str]) -> str:
    chosen = outcomes.get(handoff.node_id) or outcomes.get(handoff.kind)
    if chosen is not None:
        return chosen
    node = flow.node(handoff.node_id)
    if isinstance(node, HandoffNode) and node.on:
        return next(iter(node.on))
    known = HANDOFF_OUTCOMES.get(handoff.kind, frozenset({"hangup"}))
    return "hangup" if "hangup" in known else min(known)


def _simulated_reply(
    flow: Flow, instruction: Instruction, keys: Iterator[str | None], outcomes: Mapping[str, str]
) -> Reply | None:
    if isinstance(instruction, Play):
        return Played()
    if isinstance(instruction, Handoff):
        return Outcome(_simulated_outcome(flow, instruction, outcomes))
    key = next(keys, False)
    if key is False:
        return None
    return Digits("" if key is None else str(key))


def simulate(
    flow: Flow,
    keys: Sequence[str | None],
    clock: datetime,
    outcomes: Mapping[str, str] | None = None,
    *,
    caller: str = "",
    step_ms: int = 0,
    workday_overrides: Overrides = NO_OVERRIDES,
) -> FlowRun:
    """Walk `flow` as a caller pressing `keys` (None = timeout); stop when keys run out.

    Handoffs answer with `outcomes[node_id]`, else `outcomes[kind]`, else the node's first `on`
    outcome, else 'hangup'. If the keys run out while the flow waits for input, the run is
    returned unfinished with `pending` set: that is where this caller would be now.
    """
    run = FlowRun(flow, clock=clock, caller=caller, workday_overrides=workday_overrides)
    instruction = run.start(0)
    remaining = iter(keys)
    elapsed = 0
    while not run.finished:
        reply = _simulated_reply(flow, instruction, remaining, outcomes or {})
        if reply is None:
            break
        elapsed += step_ms
        instruction = run.resume(reply, elapsed)
    return run


def _overflow_target(flow: Flow, node: HandoffNode, outcome: Outcome) -> str | None:
    # The queue's settings name where callers go after its max wait, unless the node says.
    queue = queue_of(node)
    if outcome.name != "overflow" or queue is None:
        return None
    return flow.queue_settings(queue).overflow
