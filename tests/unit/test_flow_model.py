"""The flow model: defaults, normalisation and the handoff registry."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import ValidationError

from ivr.flow import model
from ivr.flow.model import (
    CollectNode,
    Flow,
    HandoffNode,
    MenuNode,
    Schedule,
    SetNode,
    TimeRange,
    parse_time_range,
    register_handoff,
)

pytestmark = pytest.mark.unit


def flow_data(**nodes: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "model-test",
        "languages": ["zh"],
        "default_language": "zh",
        "start": "main",
        "operator": "agent",
        "nodes": {"agent": {"type": "queue"}, **nodes},
    }


@pytest.fixture
def registry() -> Iterator[dict[str, frozenset[str]]]:
    """The live handoff registry, restored afterwards so registering in a test leaks nowhere."""
    saved = dict(model.HANDOFF_OUTCOMES)
    yield model.HANDOFF_OUTCOMES
    model.HANDOFF_OUTCOMES.clear()
    model.HANDOFF_OUTCOMES.update(saved)


def test_menu_defaults() -> None:
    menu = MenuNode.model_validate({"type": "menu", "prompt": "hi", "choices": {1: "a"}})
    assert menu.prompt == ("hi",)
    assert menu.choices == {"1": "a"}
    assert (menu.timeout_s, menu.max_tries, menu.timeout_prompt) == (5.0, 3, None)


def test_collect_defaults_and_empty_terminator() -> None:
    node = CollectNode.model_validate(
        {"type": "collect", "prompt": ["a", "b"], "max_digits": 4, "variable": "pin", "next": "x"}
    )
    assert (node.prompt, node.min_digits, node.terminator) == (("a", "b"), 1, "#")
    no_terminator = node.model_validate({**node.model_dump(), "terminator": ""})
    assert no_terminator.terminator is None


def test_collect_rejects_a_terminator_that_is_not_a_key() -> None:
    with pytest.raises(ValidationError, match="terminator 'x' must be one keypad key"):
        CollectNode.model_validate(
            {"type": "collect", "prompt": "a", "max_digits": 4, "variable": "v", "next": "x",
             "terminator": "x"}
        )  # fmt: skip


def test_set_values_become_text() -> None:
    node = SetNode.model_validate(
        {"type": "set", "variables": {"a": 1, "b": True, "c": "x"}, "next": "n"}
    )
    assert node.variables == {"a": "1", "b": "true", "c": "x"}


def test_handoff_params_keep_their_types() -> None:
    flow = Flow.model_validate(
        flow_data(main={"type": "queue", "params": {"skills": ["legal"], "priority": 0}})
    )
    node = flow.nodes["main"]
    assert isinstance(node, HandoffNode)
    assert node.params == {"skills": ["legal"], "priority": 0}


def test_node_exits_name_every_edge() -> None:
    menu = MenuNode.model_validate(
        {"type": "menu", "prompt": "p", "choices": {"1": "a"}, "on_timeout": "b", "on_exit": "c"}
    )
    assert menu.exits() == [("choice '1'", "a"), ("on_timeout", "b"), ("on_exit", "c")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("08:30-12:00", TimeRange(510, 720)), ("0:00-24:00", TimeRange(0, 1440))],
)
def test_time_ranges_parse(text: str, expected: TimeRange) -> None:
    assert parse_time_range(text) == expected


@pytest.mark.parametrize("text", ["25:00-26:00", "12:00-09:00", "09:00", "9-17", "24:30-24:45"])
def test_bad_time_ranges_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="bad time range"):
        parse_time_range(text)


def test_schedule_serialises_ranges_back_to_text() -> None:
    schedule = Schedule.model_validate({"workdays": ["09:00-12:00"]})
    assert schedule.model_dump()["workdays"] == ("09:00-12:00",)
    assert schedule.holidays == "china"


def test_a_registered_kind_becomes_a_node_type(registry: dict[str, frozenset[str]]) -> None:
    with pytest.raises(ValidationError, match="bad node type"):
        Flow.model_validate(flow_data(main={"type": "fax"}))
    register_handoff("fax", {"sent", "failed"})
    flow = Flow.model_validate(flow_data(main={"type": "fax", "on": {"sent": "agent"}}))
    assert flow.nodes["main"].type == "fax"
    assert registry["fax"] == frozenset({"sent", "failed"})


def test_registering_again_adds_outcomes(registry: dict[str, frozenset[str]]) -> None:
    register_handoff("queue", ("overflow",))
    assert {"overflow", "answered"} <= registry["queue"]


@pytest.mark.parametrize(("kind", "outcomes"), [("menu", {"x"}), ("Fax", {"x"}), ("fax", set())])
def test_register_handoff_refuses_bad_kinds(
    registry: dict[str, frozenset[str]], kind: str, outcomes: set[str]
) -> None:
    with pytest.raises(ValueError, match=f"handoff kind '{kind}'"):
        register_handoff(kind, outcomes)
    assert kind not in registry or kind == "menu"


def test_flow_is_frozen() -> None:
    flow = Flow.model_validate(flow_data(main={"type": "hangup"}))
    with pytest.raises(ValidationError):
        flow.start = "agent"
