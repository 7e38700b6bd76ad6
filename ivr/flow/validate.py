"""Flow validation: YAML text or a mapping in, a Flow plus every problem an admin must fix out."""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from hotline.errors import HotlineError
from ivr.flow.model import (
    BUILTIN_NODE_TYPES,
    DTMF_KEYS,
    HANDOFF_OUTCOMES,
    HANDOFF_TAG,
    OPERATOR_KEY,
    AnyNode,
    CollectNode,
    Flow,
    HandoffNode,
    HoursNode,
    LanguageNode,
    MenuNode,
    QueueSettings,
)

MAX_MENU_CHOICES = 9


@dataclass(frozen=True)
class FlowIssue:
    """One problem, tied to the node it is in (None for flow-wide problems)."""

    node: str | None
    problem: str

    def __str__(self) -> str:
        return self.problem if self.node is None else f"node '{self.node}': {self.problem}"


class FlowInvalid(HotlineError):
    """A flow that must not be published; `issues` lists everything wrong with it."""

    def __init__(self, issues: Iterable[FlowIssue]) -> None:
        self.issues = tuple(issues)
        lines = "\n".join(f"- {issue}" for issue in self.issues)
        super().__init__(f"the flow has {len(self.issues)} problem(s):\n{lines}")


# -- YAML ------------------------------------------------------------------------------------

_YAML11_ONLY = {"tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"}
_YAML12_SCALARS = (
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:int", r"^[-+]?[0-9]+$", "-+0123456789"),
    (
        "tag:yaml.org,2002:float",
        r"^[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$",
        "-+.0123456789",
    ),
)


def _yaml12_resolvers() -> dict[Any, list[tuple[str, re.Pattern[str]]]]:
    # YAML 1.1 reads `no:` as False, `09:00` as 540 and `010` as 8; admins mean the text.
    resolvers: dict[Any, list[tuple[str, re.Pattern[str]]]] = {
        first: [(tag, rx) for tag, rx in found if tag not in _YAML11_ONLY]
        for first, found in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    for tag, pattern, firsts in _YAML12_SCALARS:
        for first in firsts:
            resolvers.setdefault(first, []).insert(0, (tag, re.compile(pattern)))
    return resolvers


def _decimal(loader: yaml.SafeLoader, node: yaml.Node) -> int:
    return int(str(loader.construct_scalar(node)))  # type: ignore[arg-type]


class _FlowLoader(yaml.SafeLoader):
    """Safe YAML with 1.2-style scalars, string keys and duplicate keys refused."""

    yaml_implicit_resolvers = _yaml12_resolvers()
    yaml_constructors: ClassVar[dict[Any, Any]] = {
        **yaml.SafeLoader.yaml_constructors,
        "tag:yaml.org,2002:int": _decimal,
    }

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: set[str] = set()
        for key_node, _ in node.value:
            key = str(key_node.value)
            if isinstance(key_node, yaml.ScalarNode) and key in seen:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping",
                    node.start_mark,
                    f"duplicate key '{key}'",
                    key_node.start_mark,
                )
            seen.add(key)
        mapping = super().construct_mapping(node, deep=deep)
        return {str(key): value for key, value in mapping.items()}


def _yaml_issue(err: yaml.YAMLError) -> FlowIssue:
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    problem = getattr(err, "problem", None) or str(err)
    if mark is None:
        return FlowIssue(None, f"malformed YAML: {problem}")
    return FlowIssue(
        None, f"malformed YAML at line {mark.line + 1}, column {mark.column + 1}: {problem}"
    )


def parse_flow_yaml(text: str) -> tuple[Any, list[FlowIssue]]:
    """The YAML document as plain data, or the syntax problem with its line number."""
    try:
        return yaml.load(text, Loader=_FlowLoader), []
    except yaml.YAMLError as err:
        return None, [_yaml_issue(err)]


# -- schema errors ---------------------------------------------------------------------------


def _dotted(loc: Iterable[int | str]) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")


def _node_type_problem(error: ErrorDetails) -> str:
    given = error["input"].get("type") if isinstance(error["input"], dict) else None
    kinds = ", ".join((*BUILTIN_NODE_TYPES, *sorted(HANDOFF_OUTCOMES)))
    if given is None:
        return f"missing field 'type' (one of: {kinds})"
    return f"unknown node type '{given}' (one of: {kinds})"


def _schema_problem(error: ErrorDetails, loc: list[int | str]) -> str:
    kind, message = error["type"], error["msg"]
    if kind == "node_type":
        return _node_type_problem(error)
    if kind in ("extra_forbidden", "missing") and loc:
        what = "unknown" if kind == "extra_forbidden" else "missing"
        where = _dotted(loc[:-1])
        return f"{where + ': ' if where else ''}{what} field '{loc[-1]}'"
    message = message.removeprefix("Value error, ")
    return f"{_dotted(loc)}: {message}" if loc else message


def _schema_issue(error: ErrorDetails) -> FlowIssue:
    loc = list(error["loc"])
    if len(loc) >= 2 and loc[0] == "nodes":
        node, rest = str(loc[1]), loc[2:]
        if rest and rest[0] in (*BUILTIN_NODE_TYPES, HANDOFF_TAG):
            rest = rest[1:]
        if rest == ["[key]"]:
            return FlowIssue(node, "node id must be a slug: a-z first, then a-z, 0-9, _ or -")
        return FlowIssue(node, _schema_problem(error, rest))
    if len(loc) >= 2 and loc[0] in ("schedules", "prompts", "queues"):
        owner = f"{str(loc[0])[:-1]} '{loc[1]}'"
        if loc[0] == "queues" and loc[2:] == ["[key]"]:
            problem = "a queue name is a-z first, then a-z or _ (32 at most)"
            return FlowIssue(None, f"{owner}: {problem}")
        return FlowIssue(None, f"{owner}: {_schema_problem(error, loc[2:])}")
    return FlowIssue(None, _schema_problem(error, loc))


# -- graph -----------------------------------------------------------------------------------


def queue_of(node: AnyNode) -> str | None:
    """The ACD queue a `queue` node puts callers in (None for other node kinds)."""
    if isinstance(node, HandoffNode) and node.type == "queue":
        return str(node.params.get("queue", "operator"))
    return None


def node_exits(flow: Flow, node: AnyNode) -> list[tuple[str, str]]:
    """Every (edge name, target) of a node, including the implicit key-0 operator edge and a
    queue's overflow (named in the flow's `queues` section)."""
    exits = node.exits()
    if isinstance(node, MenuNode) and OPERATOR_KEY not in node.choices:
        exits.append(("key '0' (operator)", flow.operator))
    queue = queue_of(node)
    overflow = None if queue is None else flow.queue_settings(queue).overflow
    if overflow is not None and isinstance(node, HandoffNode) and "overflow" not in node.on:
        exits.append((f"queue '{queue}' overflow", overflow))
    return exits


def _graph(flow: Flow, only: Callable[[AnyNode], bool] = lambda node: True) -> dict[str, set[str]]:
    return {
        node_id: {t for _, t in node_exits(flow, node) if t in flow.nodes} if only(node) else set()
        for node_id, node in flow.nodes.items()
    }


def _reach(graph: Mapping[str, set[str]], starts: Iterable[str]) -> set[str]:
    seen: set[str] = set()
    todo = list(starts)
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo.extend(graph.get(current, ()))
    return seen


def _cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """Strongly connected components that contain a cycle, members in flow order."""
    onward = {node: _reach(graph, graph[node]) for node in graph}
    found: list[list[str]] = []
    done: set[str] = set()
    for node in graph:
        if node in done or node not in onward[node]:
            continue
        members = [other for other in graph if other in onward[node] and node in onward[other]]
        done.update(members)
        found.append(members)
    return found


def _cycle_path(graph: Mapping[str, set[str]], members: list[str]) -> list[str]:
    """A shortest way round the loop from its first member back to it, for the message."""
    start, allowed = members[0], set(members)
    parents: dict[str, str] = {}
    todo = [start]
    while todo:
        current = todo.pop(0)
        if start in graph[current]:
            back = [current]
            while back[-1] != start:
                back.append(parents[back[-1]])
            return [*reversed(back), start]
        for target in sorted(graph[current] & allowed - parents.keys()):
            parents[target] = current
            todo.append(target)
    return [*members, start]


# -- checks ----------------------------------------------------------------------------------


def _check_references(flow: Flow) -> Iterator[FlowIssue]:
    for name, target in (("start", flow.start), ("operator", flow.operator)):
        if target not in flow.nodes:
            yield FlowIssue(None, f"{name} goes to unknown node '{target}'")
    for node_id, node in flow.nodes.items():
        for edge, target in node.exits():
            if target not in flow.nodes:
                yield FlowIssue(node_id, f"{edge} goes to unknown node '{target}'")


def _check_reachable(flow: Flow) -> Iterator[FlowIssue]:
    if flow.start not in flow.nodes:
        return
    reached = _reach(_graph(flow), [flow.start])
    for node_id in flow.nodes:
        if node_id not in reached:
            yield FlowIssue(node_id, f"is not reachable from start node '{flow.start}'")


def _check_node_prompts(flow: Flow, node_id: str, node: AnyNode) -> Iterator[FlowIssue]:
    seen: set[str] = set()
    for field, prompt_id in node.prompt_refs():
        if prompt_id not in flow.prompts:
            yield FlowIssue(node_id, f"{field} uses unknown prompt '{prompt_id}'")
        elif prompt_id not in seen:
            seen.add(prompt_id)
            for language in flow.languages:
                if language not in flow.prompts[prompt_id]:
                    yield FlowIssue(node_id, f"prompt '{prompt_id}' has no '{language}' text")


def _check_prompts(flow: Flow) -> Iterator[FlowIssue]:
    used: set[str] = set()
    for node_id, node in flow.nodes.items():
        used.update(prompt_id for _, prompt_id in node.prompt_refs())
        yield from _check_node_prompts(flow, node_id, node)
    for prompt_id, texts in flow.prompts.items():
        missing = [lang for lang in flow.languages if lang not in texts]
        if prompt_id not in used and missing:
            yield FlowIssue(None, f"prompt '{prompt_id}' has no '{missing[0]}' text")
        for language in texts:
            if language not in flow.languages:
                yield FlowIssue(
                    None,
                    f"prompt '{prompt_id}' has '{language}' text, which is not in {_langs(flow)}",
                )


def _langs(flow: Flow) -> str:
    return f"languages ({', '.join(flow.languages)})"


def _missing_exits(node: MenuNode | CollectNode) -> list[str]:
    if node.on_exit is not None:
        return []
    if isinstance(node, CollectNode):
        return ["invalid", "timed-out"]
    explicit = (("invalid", node.on_invalid), ("timed-out", node.on_timeout))
    return [failure for failure, target in explicit if target is None]


def _check_exit_paths(flow: Flow) -> Iterator[FlowIssue]:
    for node_id, node in flow.nodes.items():
        if isinstance(node, MenuNode | CollectNode) and (missing := _missing_exits(node)):
            yield FlowIssue(
                node_id,
                f"no on_exit: nowhere to go after {node.max_tries} {' or '.join(missing)} tries",
            )


def _check_loops(flow: Flow) -> Iterator[FlowIssue]:
    silent = _graph(flow, only=lambda node: not node.waits_for_input)
    silent_loops = _cycles(silent)
    for members in silent_loops:
        path = " → ".join(_cycle_path(silent, members))
        yield FlowIssue(members[0], f"loop without caller input: {path} repeats forever")
    graph = _graph(flow)
    reversed_graph: dict[str, set[str]] = {node_id: set() for node_id in graph}
    for source, targets in graph.items():
        for target in targets:
            reversed_graph[target].add(source)
    enders = [node_id for node_id, node in flow.nodes.items() if node.ends_call]
    can_end = _reach(reversed_graph, enders)
    for members in _cycles(graph):
        if members not in silent_loops and not can_end.intersection(members):
            names = ", ".join(members)
            yield FlowIssue(
                members[0], f"loop with no exit: {names} never reach a hangup or handoff"
            )


def _check_patterns(flow: Flow) -> Iterator[FlowIssue]:
    for node_id, node in flow.nodes.items():
        if isinstance(node, CollectNode) and node.pattern is not None:
            problem = pattern_problem(node)
            if problem is not None:
                yield FlowIssue(node_id, problem)


def _key_problems(field: str, keys: Iterable[str]) -> Iterator[str]:
    for key in keys:
        if len(key) != 1 or key not in DTMF_KEYS:
            yield f"{field} '{key}' is not a single keypad key (0-9, * or #)"


def _check_keys(flow: Flow) -> Iterator[FlowIssue]:
    for node_id, node in flow.nodes.items():
        problems: list[str] = []
        if isinstance(node, MenuNode | LanguageNode):
            problems += _key_problems("choice key", node.choices)
            if len(node.choices) > MAX_MENU_CHOICES:
                problems.append(f"has {len(node.choices)} choices; at most 9 fit a spoken menu")
        if isinstance(node, CollectNode) and node.confirm is not None:
            problems += _key_problems("confirm key", (node.confirm.yes, node.confirm.no))
            if node.confirm.yes == node.confirm.no:
                problems.append(f"confirm keys yes and no are both '{node.confirm.yes}'")
        yield from (FlowIssue(node_id, problem) for problem in problems)


def _check_languages(flow: Flow) -> Iterator[FlowIssue]:
    if flow.default_language not in flow.languages:
        yield FlowIssue(
            None, f"default_language '{flow.default_language}' is not in {_langs(flow)}"
        )
    for node_id, node in flow.nodes.items():
        if isinstance(node, LanguageNode):
            for key, language in node.choices.items():
                if language not in flow.languages:
                    yield FlowIssue(
                        node_id,
                        f"choice '{key}' sets language '{language}', "
                        f"which is not in {_langs(flow)}",
                    )


def _check_schedules(flow: Flow) -> Iterator[FlowIssue]:
    for node_id, node in flow.nodes.items():
        if isinstance(node, HoursNode) and node.schedule not in flow.schedules:
            yield FlowIssue(node_id, f"uses unknown schedule '{node.schedule}'")


def _check_handoffs(flow: Flow) -> Iterator[FlowIssue]:
    for node_id, node in flow.nodes.items():
        if isinstance(node, HandoffNode):
            known = HANDOFF_OUTCOMES.get(node.type, frozenset())
            for outcome in node.on:
                if outcome not in known:
                    names = ", ".join(sorted(known))
                    yield FlowIssue(
                        node_id, f"outcome '{outcome}' is not an outcome of {node.type} ({names})"
                    )


def _queue_problems(flow: Flow, name: str, settings: QueueSettings) -> Iterator[str]:
    if settings.overflow is not None and settings.overflow not in flow.nodes:
        yield f"overflow goes to unknown node '{settings.overflow}'"
    keys = {"callback_key": settings.callback_key, "message_key": settings.message_key}
    chosen = {field: key for field, key in keys.items() if key not in (None, "")}
    for field, key in chosen.items():
        yield from _key_problems(field, [key])
    if len(chosen) == 2 and len(set(chosen.values())) == 1:
        yield f"callback_key and message_key are both '{settings.callback_key}'"
    if settings.announce_every_s is not None:
        for field, prompt_id in (("position_prompt", settings.position_prompt),
                                 ("wait_prompt", settings.wait_prompt)):  # fmt: skip
            if prompt_id is not None and prompt_id not in flow.prompts:
                yield f"{field} uses unknown prompt '{prompt_id}'"
    times = [step.after_s for step in settings.escalation]
    if len(set(times)) != len(times):
        yield f"escalation steps share a time ({', '.join(f'{t:g}' for t in times)} s)"
    late = [t for t in times if settings.max_wait_s is not None and t >= settings.max_wait_s]
    if late:
        yield (f"escalation after {late[0]:g} s never happens: max_wait_s is "
               f"{settings.max_wait_s:g}")  # fmt: skip


def _check_queues(flow: Flow) -> Iterator[FlowIssue]:
    for name, settings in flow.queues.items():
        for problem in _queue_problems(flow, name, settings):
            yield FlowIssue(None, f"queue '{name}': {problem}")


_CHECKS: tuple[Callable[[Flow], Iterator[FlowIssue]], ...] = (
    _check_references,
    _check_reachable,
    _check_prompts,
    _check_exit_paths,
    _check_loops,
    _check_patterns,
    _check_keys,
    _check_languages,
    _check_schedules,
    _check_handoffs,
    _check_queues,
)


def check_flow(flow: Flow) -> list[FlowIssue]:
    """Everything wrong with a schema-valid flow: flow-wide issues first, then node by node."""
    issues = [issue for check in _CHECKS for issue in check(flow)]
    order = {node_id: index for index, node_id in enumerate(flow.nodes)}
    return sorted(issues, key=lambda issue: -1 if issue.node is None else order[issue.node])


def validate_flow(data: Mapping[str, Any]) -> tuple[Flow | None, list[FlowIssue]]:
    """(flow, []) if `data` is a publishable flow, else (None, every issue found)."""
    if not isinstance(data, Mapping):
        return None, [FlowIssue(None, "a flow must be a mapping with id, start, nodes, ...")]
    try:
        flow = Flow.model_validate(dict(data))
    except ValidationError as err:
        return None, [_schema_issue(error) for error in err.errors()]
    issues = check_flow(flow)
    return (None if issues else flow), issues


def validate_flow_text(text: str) -> tuple[Flow | None, list[FlowIssue]]:
    """Like validate_flow, starting from YAML text (for the admin editor)."""
    data, issues = parse_flow_yaml(text)
    if issues:
        return None, issues
    if data is None:
        return None, [FlowIssue(None, "the flow file is empty")]
    return validate_flow(data)


def load_flow(text: str) -> Flow:
    """The flow in this YAML text; FlowInvalid lists every problem if it can't be published."""
    flow, issues = validate_flow_text(text)
    if flow is None:
        raise FlowInvalid(issues)
    return flow


# -- can a digit pattern match at all? ------------------------------------------------------

_EPSILON, _BEGIN, _END = "", "^", "$"
_CATEGORY_KEYS = {
    "CATEGORY_DIGIT": "0123456789",
    "CATEGORY_NOT_DIGIT": "*#",
    "CATEGORY_WORD": "0123456789",
    "CATEGORY_NOT_WORD": "*#",
    "CATEGORY_SPACE": "",
    "CATEGORY_NOT_SPACE": DTMF_KEYS,
}


MAX_PATTERN_STATES = 20_000


class _Unsupported(Exception):
    """Says why a pattern can't be turned into a keypad automaton, e.g. 'uses ASSERT'."""


class _KeypadAutomaton:
    """An NFA over keypad keys built from Python's own parse of the regex.

    Searching it length by length answers "does any key string of an allowed length match?"
    exactly, where brute force over 12**14 strings could not.
    """

    def __init__(self, keys: str, max_len: int) -> None:
        self.keys = keys
        self.cap = max_len + 1  # more repeats than keys can only match the empty string
        self.edges: list[list[tuple[str | frozenset[str], int]]] = [[]]

    def new(self) -> int:
        if len(self.edges) >= MAX_PATTERN_STATES:
            raise _Unsupported("nests too many repeats")
        self.edges.append([])
        return len(self.edges) - 1

    def link(self, source: int, label: str | frozenset[str], target: int) -> int:
        self.edges[source].append((label, target))
        return target

    def sequence(self, items: Iterable[tuple[Any, Any]], source: int) -> int:
        for op, arg in items:
            source = self.item(op.name, arg, source)
        return source

    def item(self, op: str, arg: Any, source: int) -> int:
        if op in ("LITERAL", "NOT_LITERAL", "ANY", "IN"):
            return self.link(source, self.char_set(op, arg), self.new())
        if op == "SUBPATTERN":
            return self.sequence(arg[3], source)
        if op == "BRANCH":
            end = self.new()
            for alternative in arg[1]:
                self.link(self.sequence(alternative, source), _EPSILON, end)
            return end
        if op in ("MAX_REPEAT", "MIN_REPEAT"):
            return self.repeat(arg[0], arg[1], arg[2], source)
        if op == "AT" and arg.name in ("AT_BEGINNING", "AT_BEGINNING_STRING"):
            return self.link(source, _BEGIN, self.new())
        if op == "AT" and arg.name in ("AT_END", "AT_END_STRING"):
            return self.link(source, _END, self.new())
        raise _Unsupported(f"uses {arg.name if op == 'AT' else op}")

    def char_set(self, op: str, arg: Any) -> frozenset[str]:
        if op == "ANY":
            return frozenset(self.keys)
        if op in ("LITERAL", "NOT_LITERAL"):
            hit = {chr(arg)} & set(self.keys)
            return frozenset(hit if op == "LITERAL" else set(self.keys) - hit)
        chars: set[str] = set()
        negate = False
        for kind, value in arg:
            negate = negate or kind.name == "NEGATE"
            chars |= self.class_item(kind.name, value)
        return frozenset(set(self.keys) - chars if negate else chars & set(self.keys))

    def class_item(self, kind: str, value: Any) -> set[str]:
        if kind == "LITERAL":
            return {chr(value)}
        if kind == "RANGE":
            return {key for key in self.keys if value[0] <= ord(key) <= value[1]}
        if kind == "CATEGORY" and value.name in _CATEGORY_KEYS:
            return set(_CATEGORY_KEYS[value.name])
        if kind == "NEGATE":
            return set()
        raise _Unsupported(f"uses {getattr(value, 'name', kind)}")

    def repeat(self, low: int, high: int, body: Any, source: int) -> int:
        for _ in range(min(low, self.cap)):
            source = self.sequence(body, source)
        if high > self.cap:
            loop = self.link(source, _EPSILON, self.new())
            self.link(self.sequence(body, loop), _EPSILON, loop)
            return loop
        ends = [source]
        for _ in range(high - low):
            source = self.sequence(body, source)
            ends.append(source)
        end = self.new()
        for state in ends:
            self.link(state, _EPSILON, end)
        return end

    def closure(self, states: Iterable[int], at_start: bool, at_end: bool) -> frozenset[int]:
        free = {_EPSILON} | ({_BEGIN} if at_start else set()) | ({_END} if at_end else set())
        seen = set(states)
        todo = list(seen)
        while todo:
            for label, target in self.edges[todo.pop()]:
                if isinstance(label, str) and label in free and target not in seen:
                    seen.add(target)
                    todo.append(target)
        return frozenset(seen)

    def step(self, states: frozenset[int], key: str, at_start: bool) -> frozenset[int]:
        here = self.closure(states, at_start, at_end=False)
        return frozenset(
            target
            for state in here
            for label, target in self.edges[state]
            if isinstance(label, frozenset) and key in label
        )

    def accepts(self, accept: int, keys: str) -> bool:
        states = frozenset({0})
        for position, key in enumerate(keys):
            states = self.step(states, key, at_start=position == 0)
            if not states:
                return False
        return accept in self.closure(states, at_start=not keys, at_end=True)

    def matches_some(self, accept: int, min_len: int, max_len: int) -> bool:
        level = {frozenset({0})}
        for length in range(max_len + 1):
            at_start = length == 0
            if length >= min_len and any(
                accept in self.closure(s, at_start, at_end=True) for s in level
            ):
                return True
            level = {n for s in level for k in self.keys if (n := self.step(s, k, at_start))}
            if not level:
                return False
        return False


def pattern_problem(node: CollectNode) -> str | None:
    """Why no key string the caller can enter matches node.pattern, or None if one can."""
    assert node.pattern is not None
    keys = "".join(key for key in DTMF_KEYS if key != node.terminator)
    automaton = _KeypadAutomaton(keys, node.max_digits)
    parser: Any = importlib.import_module("re._parser")
    try:
        accept = automaton.sequence(parser.parse(node.pattern), 0)
    except _Unsupported as err:
        return (
            f"pattern '{node.pattern}' {err}, which can't be checked: "
            "use classes, groups, alternation and repeats"
        )
    if automaton.matches_some(accept, node.min_digits, node.max_digits):
        return None
    span = f"{node.min_digits}-{node.max_digits}"
    return f"pattern '{node.pattern}' can't be matched by any {span} keypad keys"


def keypad_pattern_matches(pattern: str, keys: str) -> bool | None:
    """re.fullmatch(pattern, keys) in linear time, or None if the pattern can't be automated.

    A backtracking regex like ^(\\d+)+\\*$ on 64 digits would hang the call; this can't.
    """
    automaton = _KeypadAutomaton(DTMF_KEYS, len(keys))
    parser: Any = importlib.import_module("re._parser")
    try:
        accept = automaton.sequence(parser.parse(pattern), 0)
    except (_Unsupported, re.error):
        return None
    return automaton.accepts(accept, keys)
