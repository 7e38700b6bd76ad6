"""Property tests: whatever a caller presses, a valid flow ends the call, and soon."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ivr
from ivr.flow.engine import (
    MAX_INPUTS,
    MAX_RECORDED_INPUT,
    Digits,
    Finish,
    FlowRun,
    Handoff,
    Instruction,
    Outcome,
    Play,
    Played,
    Reply,
)
from ivr.flow.model import HANDOFF_OUTCOMES, Flow
from ivr.flow.validate import keypad_pattern_matches, load_flow, validate_flow

pytestmark = pytest.mark.unit

KEYS = "0123456789*#"
HANDOFF_KINDS = ("queue", "speech", "callback", "survey", "order_status", "message")
COLLECT_RULES = (
    (None, 1, 4),
    ("^[0-9]{4}$", 4, 4),
    (r"\d{2,6}", 2, 8),
    (r"^1\d*$", 1, 5),
    (r"(12|34)+\*?", 2, 7),
)
SCHEDULES = (
    {"always": True},
    {"workdays": ["09:00-12:00", "14:00-17:30"]},
    {"workdays": ["00:00-24:00"], "weekends": ["10:00-11:00"], "holidays": "none"},
    {"weekends": ["08:00-20:00"], "timezone": "Europe/London"},
)
DEFAULT_YAML = Path(ivr.__file__).parent / "flows" / "default.yaml"

caller_keys = st.one_of(
    st.none(),
    st.sampled_from(list(KEYS)),
    st.text(alphabet=KEYS + "ABCDabxyz #", max_size=6),
    st.text(alphabet=KEYS, min_size=10, max_size=200),
    st.text(max_size=8),
)
events = st.lists(st.tuples(caller_keys, st.integers(0, 9)), max_size=40)
clocks = st.builds(
    lambda minutes, zone: datetime(2025, 12, 1, tzinfo=ZoneInfo(zone)) + timedelta(minutes=minutes),
    st.integers(0, 60 * 24 * 420),
    st.sampled_from(["Asia/Shanghai", "UTC", "America/New_York"]),
)


def reply_for(instruction: Instruction, key: str | None, pick: int) -> Reply:
    if isinstance(instruction, Play):
        return Played()
    if isinstance(instruction, Handoff):
        names = sorted(HANDOFF_OUTCOMES[instruction.kind])
        return Outcome(names[pick % len(names)])
    return Digits(key or "")


def drive(flow: Flow, clock: datetime, script: Sequence[tuple[str | None, int]]) -> FlowRun:
    """Run the flow to the end; once the script runs out the caller just stays silent."""
    run = FlowRun(flow, clock=clock)
    instruction = run.start(0)
    feed = iter(script)
    bound = (MAX_INPUTS + 1) * (len(flow.nodes) + 1)
    for replies in range(1, bound + 1):
        if run.finished:
            break
        key, pick = next(feed, (None, 0))
        instruction = run.resume(reply_for(instruction, key, pick), replies * 700)
    assert run.finished, "the run did not end within its bound"
    assert isinstance(instruction, Finish)
    return run


def check_run(flow: Flow, run: FlowRun) -> None:
    # A validated flow has no silent loops and no dangling edges, so neither guard should fire.
    assert run.result not in ("loop_guard", "flow_error")
    assert all(step.node in flow.nodes for step in run.path)
    assert all(step.outcome is not None for step in run.path)
    assert all(len(step.input or "") <= MAX_RECORDED_INPUT for step in run.path)
    assert run.language in flow.languages


@st.composite
def generated_flows(draw: st.DrawFn) -> dict[str, Any]:
    """Small valid flows: each node leads on to the next, so all are reachable and can end.

    Nodes that don't wait for input only point forwards (no silent loops); nodes that wait may
    point anywhere, including backwards.
    """
    size = draw(st.integers(2, 8))
    ids = [f"n{index}" for index in range(size)]
    nodes = {ids[i]: draw(generated_node(ids, i)) for i in range(size - 1)}
    nodes[ids[-1]] = {"type": "hangup", "prompt": "bye", "result": "completed"}
    return {
        "id": "generated",
        "languages": ["zh", "en"],
        "default_language": draw(st.sampled_from(["zh", "en"])),
        "start": ids[0],
        "operator": draw(st.sampled_from(ids)),
        "prompts": {name: {"zh": "提示{topic}", "en": "Prompt"} for name in ("p", "q", "bye")},
        "schedules": {"s": draw(st.sampled_from(SCHEDULES))},
        "nodes": nodes,
    }


def generated_node(ids: list[str], index: int) -> st.SearchStrategy[dict[str, Any]]:
    after, anywhere = ids[index + 1], st.sampled_from(ids)
    later = st.sampled_from(ids[index + 1 :])
    return st.one_of(
        st.just({"type": "play", "prompt": ["p", "q"], "next": after}),
        st.just({"type": "goto", "target": after}),
        st.just({"type": "set", "variables": {"topic": "x"}, "next": after}),
        st.builds(
            lambda closed: {"type": "hours", "schedule": "s", "open": after, "closed": closed},
            later,
        ),
        st.builds(
            lambda tries: {
                "type": "language",
                "prompt": "p",
                "choices": {"1": "zh", "2": "en"},
                "max_tries": tries,
                "next": after,
            },
            st.integers(1, 3),
        ),
        generated_menu(after, anywhere),
        generated_collect(after, anywhere),
        generated_handoff(after, anywhere),
    )


def generated_menu(
    after: str, anywhere: st.SearchStrategy[str]
) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(
        lambda extra, on_exit, on_timeout, tries: {
            "type": "menu",
            "prompt": "p",
            "invalid_prompt": "q",
            "max_tries": tries,
            "choices": {**extra, "1": after},
            "on_exit": on_exit,
            **({} if on_timeout is None else {"on_timeout": on_timeout}),
        },
        st.dictionaries(st.sampled_from(list("023456789*#")), anywhere, max_size=4),
        anywhere,
        st.none() | anywhere,
        st.integers(1, 4),
    )


def generated_collect(
    after: str, anywhere: st.SearchStrategy[str]
) -> st.SearchStrategy[dict[str, Any]]:
    def build(rule: tuple[str | None, int, int], confirm: bool, on_exit: str) -> dict[str, Any]:
        pattern, low, high = rule
        node = {
            "type": "collect", "prompt": "p", "min_digits": low, "max_digits": high,
            "variable": "entered", "next": after, "on_exit": on_exit,
        }  # fmt: skip
        if pattern is not None:
            node["pattern"] = pattern
        if confirm:
            node["confirm"] = {"prompt": "q", "intro": "p"}
        return node

    return st.builds(build, st.sampled_from(COLLECT_RULES), st.booleans(), anywhere)


def generated_handoff(
    after: str, anywhere: st.SearchStrategy[str]
) -> st.SearchStrategy[dict[str, Any]]:
    def build(kind: str, others: list[str]) -> dict[str, Any]:
        first, *rest = sorted(HANDOFF_OUTCOMES[kind])
        on = {first: after, **dict(zip(rest, others, strict=False))}
        return {"type": kind, "params": {"skills": ["legal"], "priority": 1}, "on": on}

    return st.builds(build, st.sampled_from(HANDOFF_KINDS), st.lists(anywhere, max_size=4))


@pytest.fixture(scope="module")
def default_flow() -> Flow:
    return load_flow(DEFAULT_YAML.read_text(encoding="utf-8"))


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(clock=clocks, script=events)
def test_any_caller_input_ends_the_default_flow(
    default_flow: Flow, clock: datetime, script: list[tuple[str | None, int]]
) -> None:
    run = drive(default_flow, clock, script)
    check_run(default_flow, run)
    assert drive(default_flow, clock, script).path == run.path


@settings(max_examples=150, deadline=None)
@given(data=generated_flows(), clock=clocks, script=events)
def test_any_caller_input_ends_a_generated_flow(
    data: dict[str, Any], clock: datetime, script: list[tuple[str | None, int]]
) -> None:
    flow, issues = validate_flow(data)
    assert issues == []
    assert flow is not None
    run = drive(flow, clock, script)
    check_run(flow, run)
    assert drive(flow, clock, script).path == run.path


PATTERNS = (
    r"^[0-9]{10,14}$",
    r"\d{6}(\d{2})?",
    r"(12|34){2}\*?",
    r"^1$|^2$",
    r"[^#]+",
    r".*9",
    r"1^2",
    r"(?:0\d{2,3})?[1-9]\d{2}",
    r"(1|12)(2|)3*",
    r"\D\d*?#",
    r"()*1",
)


@settings(max_examples=300, deadline=None)
@given(pattern=st.sampled_from(PATTERNS), keys=st.text(alphabet=KEYS, max_size=16))
def test_keypad_matching_agrees_with_python_re(pattern: str, keys: str) -> None:
    assert keypad_pattern_matches(pattern, keys) is (re.fullmatch(pattern, keys) is not None)
