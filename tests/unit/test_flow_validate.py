"""Flow validation: every kind of mistake an admin can make is reported against its node."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from ivr.flow.model import CollectNode
from ivr.flow.validate import (
    FlowInvalid,
    FlowIssue,
    keypad_pattern_matches,
    load_flow,
    pattern_problem,
    validate_flow,
    validate_flow_text,
)

pytestmark = pytest.mark.unit

FLOWS = Path(__file__).parent / "flows"


def issues_of(fixture: str) -> list[FlowIssue]:
    flow, issues = validate_flow_text((FLOWS / fixture).read_text(encoding="utf-8"))
    assert flow is None
    return issues


def minimal() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((FLOWS / "minimal.yaml").read_text(encoding="utf-8"))
    return data


EXPECTED = [
    (
        "malformed_yaml.yaml",
        None,
        "malformed YAML at line 6, column 12: mapping values are not allowed here",
    ),
    ("duplicate_key.yaml", None, "malformed YAML at line 12, column 7: duplicate key '1'"),
    ("schema_error.yaml", "main", "timeout_s: Input should be greater than 0"),
    ("schema_error.yaml", "main", "unknown field 'nxt'"),
    ("schema_error.yaml", "Bad Id", "node id must be a slug: a-z first, then a-z, 0-9, _ or -"),
    ("unknown_node.yaml", "main", "choice '1' goes to unknown node 'legl'"),
    ("unreachable.yaml", "orphan", "is not reachable from start node 'main'"),
    ("missing_language.yaml", "main", "prompt 'hi' has no 'en' text"),
    ("unknown_prompt.yaml", "main", "invalid_prompt uses unknown prompt 'sorry'"),
    ("menu_without_exit.yaml", "main", "no on_exit: nowhere to go after 3 timed-out tries"),
    (
        "collect_without_exit.yaml",
        "ask_id",
        "no on_exit: nowhere to go after 3 invalid or timed-out tries",
    ),
    (
        "silent_loop.yaml",
        "hello",
        "loop without caller input: hello → again → hello repeats forever",
    ),
    ("endless_loop.yaml", "main", "loop with no exit: main, more never reach a hangup or handoff"),
    (
        "pattern_letters.yaml",
        "ask_name",
        "pattern '^[a-z]+$' can't be matched by any 1-8 keypad keys",
    ),
    (
        "pattern_too_long.yaml",
        "ask_pin",
        "pattern '^[0-9]{5}$' can't be matched by any 1-4 keypad keys",
    ),
    ("too_many_choices.yaml", "main", "has 10 choices; at most 9 fit a spoken menu"),
    ("bad_choice_key.yaml", "main", "choice key '10' is not a single keypad key (0-9, * or #)"),
    ("bad_choice_key.yaml", "main", "choice key 'A' is not a single keypad key (0-9, * or #)"),
    ("unknown_language.yaml", None, "default_language 'fr' is not in languages (zh, en)"),
    (
        "unknown_language.yaml",
        "pick",
        "choice '2' sets language 'fr', which is not in languages (zh, en)",
    ),
    ("unknown_schedule.yaml", "check", "uses unknown schedule 'lawyer'"),
    (
        "bad_time_range.yaml",
        None,
        "schedule 'lawyers': workdays[0]: bad time range '25:00-26:00': "
        "use HH:MM-HH:MM within 00:00-24:00, start before end",
    ),
    (
        "bad_time_range.yaml",
        None,
        "schedule 'lawyers': workdays[1]: bad time range '12:00-09:00': "
        "use HH:MM-HH:MM within 00:00-24:00, start before end",
    ),
    ("unknown_timezone.yaml", None, "timezone: unknown time zone 'Asia/Shanghia'"),
    (
        "unknown_timezone.yaml",
        None,
        "schedule 'lawyers': timezone: unknown time zone 'Mars/Olympus'",
    ),
    (
        "unknown_outcome.yaml",
        "agent",
        "outcome 'ansered' is not an outcome of queue "
        "(answered, callback, hangup, message, overflow, timeout)",
    ),
]


@pytest.mark.parametrize(("fixture", "node", "problem"), EXPECTED)
def test_each_mistake_is_reported_against_its_node(
    fixture: str, node: str | None, problem: str
) -> None:
    assert FlowIssue(node, problem) in issues_of(fixture)


@pytest.mark.parametrize(
    ("fixture", "count"),
    [("unknown_node.yaml", 1), ("silent_loop.yaml", 1), ("bad_choice_key.yaml", 2)],
)
def test_a_mistake_is_reported_once(fixture: str, count: int) -> None:
    assert len(issues_of(fixture)) == count


def test_minimal_fixture_is_valid() -> None:
    flow, issues = validate_flow(minimal())
    assert issues == []
    assert flow is not None and flow.id == "minimal"


def test_issue_renders_with_the_node_named() -> None:
    issue = FlowIssue("main", "choice '1' goes to unknown node 'legl'")
    assert str(issue) == "node 'main': choice '1' goes to unknown node 'legl'"
    assert (
        str(FlowIssue(None, "start goes to unknown node 'x'")) == "start goes to unknown node 'x'"
    )


def test_load_flow_raises_with_every_issue_in_the_message() -> None:
    with pytest.raises(FlowInvalid) as caught:
        load_flow((FLOWS / "bad_choice_key.yaml").read_text(encoding="utf-8"))
    assert len(caught.value.issues) == 2
    assert "node 'main': choice key '10'" in str(caught.value)
    assert "node 'main': choice key 'A'" in str(caught.value)


def test_load_flow_returns_the_flow_when_valid() -> None:
    flow = load_flow((FLOWS / "minimal.yaml").read_text(encoding="utf-8"))
    assert flow.start == "main"


def test_all_issues_are_collected_flow_wide_first() -> None:
    data = minimal()
    data["operator"] = "nobody"
    data["nodes"]["main"]["choices"] = {"1": "legl", "22": "agent"}
    data["nodes"]["main"]["prompt"] = "hello"
    _, issues = validate_flow(data)
    assert issues[0] == FlowIssue(None, "operator goes to unknown node 'nobody'")
    assert FlowIssue("main", "choice '1' goes to unknown node 'legl'") in issues
    assert FlowIssue("main", "prompt uses unknown prompt 'hello'") in issues
    assert FlowIssue("main", "choice key '22' is not a single keypad key (0-9, * or #)") in issues


def test_start_must_exist() -> None:
    data = minimal()
    data["start"] = "begin"
    _, issues = validate_flow(data)
    assert FlowIssue(None, "start goes to unknown node 'begin'") in issues


def test_missing_and_unknown_node_type_are_named() -> None:
    data = minimal()
    data["nodes"]["extra"] = {"prompt": "hi"}
    data["nodes"]["other"] = {"type": "fax"}
    _, issues = validate_flow(data)
    problems = {issue.node: issue.problem for issue in issues}
    assert problems["extra"].startswith("missing field 'type' (one of: play, menu,")
    assert problems["other"].startswith("unknown node type 'fax' (one of: play,")


def test_missing_field_is_named() -> None:
    data = minimal()
    del data["nodes"]["main"]["prompt"]
    _, issues = validate_flow(data)
    assert issues == [FlowIssue("main", "missing field 'prompt'")]


def test_collect_digit_bounds_must_be_ordered() -> None:
    data = minimal()
    data["nodes"]["main"] = {
        "type": "collect", "prompt": "hi", "min_digits": 6, "max_digits": 4,
        "variable": "pin", "next": "agent", "on_exit": "agent",
    }  # fmt: skip
    _, issues = validate_flow(data)
    assert issues == [FlowIssue("main", "min_digits 6 is more than max_digits 4")]


def test_invalid_regex_is_a_schema_issue() -> None:
    data = minimal()
    data["nodes"]["main"] = {
        "type": "collect", "prompt": "hi", "max_digits": 4, "pattern": "([0-9]",
        "variable": "pin", "next": "agent", "on_exit": "agent",
    }  # fmt: skip
    _, issues = validate_flow(data)
    assert issues[0].node == "main"
    assert issues[0].problem.startswith(
        "pattern: pattern '([0-9]' is not a valid regular expression"
    )


def test_confirm_keys_must_differ_and_be_keys() -> None:
    data = minimal()
    data["nodes"]["main"] = {
        "type": "collect", "prompt": "hi", "max_digits": 4, "variable": "pin",
        "confirm": {"prompt": "hi", "yes": "1", "no": "1"}, "next": "agent", "on_exit": "agent",
    }  # fmt: skip
    _, issues = validate_flow(data)
    assert issues == [FlowIssue("main", "confirm keys yes and no are both '1'")]


def test_prompt_in_a_foreign_language_is_flagged() -> None:
    data = minimal()
    data["prompts"]["hi"]["fr"] = "Bonjour"
    _, issues = validate_flow(data)
    assert issues == [
        FlowIssue(None, "prompt 'hi' has 'fr' text, which is not in languages (zh, en)")
    ]


def test_unused_prompt_missing_a_language_is_flagged_flow_wide() -> None:
    data = minimal()
    data["prompts"]["spare"] = {"zh": "备用"}
    _, issues = validate_flow(data)
    assert issues == [FlowIssue(None, "prompt 'spare' has no 'en' text")]


def test_menu_with_explicit_invalid_and_timeout_needs_no_on_exit() -> None:
    data = minimal()
    menu = data["nodes"]["main"]
    del menu["on_exit"]
    menu.update(on_invalid="agent", on_timeout="agent")
    assert validate_flow(data)[1] == []


def test_a_loop_through_a_menu_is_fine_when_the_operator_is_reachable() -> None:
    data = minimal()
    data["nodes"]["main"]["choices"] = {"1": "main"}
    data["nodes"]["main"]["on_exit"] = "main"
    # Key 0 still reaches the operator queue, so the caller can always get out.
    assert validate_flow(data)[1] == []


def test_non_mapping_and_empty_documents() -> None:
    assert validate_flow([1, 2])[1] == [  # type: ignore[arg-type]
        FlowIssue(None, "a flow must be a mapping with id, start, nodes, ...")
    ]
    assert validate_flow_text("")[1] == [FlowIssue(None, "the flow file is empty")]


def test_yaml_reads_keys_and_times_as_an_admin_means_them() -> None:
    text = (FLOWS / "minimal.yaml").read_text(encoding="utf-8")
    text = text.replace("skills: [operator]", "code: 010, record: yes")
    text += "schedules:\n  lawyers:\n    workdays: [09:00-12:00]\n"
    flow = load_flow(text)
    # YAML 1.1 would read 010 as octal 8, `yes` as True and 09:00 as the number 540.
    assert flow.nodes["agent"].params == {"queue": "operator", "code": 10, "record": "yes"}  # type: ignore[union-attr]
    assert str(flow.schedules["lawyers"].workdays[0]) == "09:00-12:00"


def test_confirm_yes_no_keys_survive_yaml() -> None:
    text = (FLOWS / "collect_without_exit.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "    variable: pin\n",
        "    variable: pin\n    on_exit: agent\n    confirm: {prompt: hi, yes: 1, no: 2}\n",
    )
    flow = load_flow(text)
    node = flow.nodes["ask_id"]
    assert isinstance(node, CollectNode) and node.confirm is not None
    assert (node.confirm.yes, node.confirm.no) == ("1", "2")


def collect(
    pattern: str, min_digits: int = 1, max_digits: int = 14, terminator: str = "#"
) -> CollectNode:
    return CollectNode.model_validate(
        {
            "type": "collect",
            "prompt": "p",
            "pattern": pattern,
            "min_digits": min_digits,
            "max_digits": max_digits,
            "terminator": terminator,
            "variable": "v",
            "next": "n",
        }
    )


@pytest.mark.parametrize(
    "pattern",
    [
        r"^[0-9]{10,14}$",
        r"\d{6}(\d{2})?",
        r"(12|34){2}\*?",
        r"^1$|^2$",
        r"[^#]+",
        r".*9",
        r"(?:0\d{2,3})?[1-9]\d{6,7}",
        r"1*",
        r"(a|5)",
    ],
)
def test_patterns_a_caller_can_match(pattern: str) -> None:
    assert pattern_problem(collect(pattern)) is None


@pytest.mark.parametrize(
    ("pattern", "min_digits", "max_digits", "terminator"),
    [
        (r"^[a-z]+$", 1, 8, "#"),
        (r"\d{15}", 1, 14, "#"),
        (r"\d{3}", 4, 8, "#"),
        (r"1^2", 1, 8, "#"),
        (r"1$2", 1, 8, "#"),
        (r"\d+#", 1, 8, "#"),  # the adapter stops reading at '#', so it never arrives
        (r"\s+", 1, 8, "#"),
        (r"(12){5,}", 1, 9, "#"),
    ],
)
def test_patterns_no_caller_can_match(
    pattern: str, min_digits: int, max_digits: int, terminator: str
) -> None:
    problem = pattern_problem(collect(pattern, min_digits, max_digits, terminator))
    span = f"{min_digits}-{max_digits}"
    assert problem == f"pattern '{pattern}' can't be matched by any {span} keypad keys"


def test_hash_is_matchable_when_it_is_not_the_terminator() -> None:
    assert pattern_problem(collect(r"\d+#", terminator="*")) is None


def test_lookaround_patterns_are_refused_rather_than_guessed() -> None:
    problem = pattern_problem(collect(r"(?=1)\d+"))
    assert problem is not None and "uses ASSERT, which can't be checked" in problem


def test_patterns_too_big_to_check_are_refused() -> None:
    problem = pattern_problem(collect(r"((\d{0,64}){0,64}){0,64}", max_digits=64))
    assert problem is not None and "nests too many repeats, which can't be checked" in problem


def test_matching_does_not_backtrack_forever() -> None:
    # Python's backtracking re would need ~2**63 steps to reject this.
    assert keypad_pattern_matches(r"^(\d+)+\*$", "1" * 64) is False
    assert keypad_pattern_matches(r"^(\d+)+\*$", "1" * 63 + "*") is True


def test_matching_declines_patterns_it_cannot_automate() -> None:
    assert keypad_pattern_matches(r"(\d)\1", "11") is None
