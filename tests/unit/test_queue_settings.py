"""The flow's `queues` section: bad settings are named by queue and field; good ones become
the ACD's routing rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from acd.model import EscalationStep, QueueRules
from ivr.acd_queue import flow_queue_rules, queue_rules
from ivr.flow.model import QueueSettings
from ivr.flow.validate import FlowIssue, node_exits, validate_flow

pytestmark = pytest.mark.unit

FLOWS = Path(__file__).parent / "flows"


def with_queue(**settings: Any) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((FLOWS / "minimal.yaml").read_text(encoding="utf-8"))
    data["queues"] = {"operator": settings}
    return data


def problems(data: dict[str, Any]) -> list[str]:
    flow, issues = validate_flow(data)
    assert flow is None, "the flow should have been refused"
    return [str(issue) for issue in issues]


GE = "Input should be greater than or equal to"
LE = "Input should be less than or equal to"
NOT_A_KEY = "is not a single keypad key (0-9, * or #)"


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({"max_wait_s": 0}, f"max_wait_s: {GE} 5"),
        ({"wrap_up_s": -1}, f"wrap_up_s: {GE} 0"),
        ({"announce_every_s": 2}, f"announce_every_s: {GE} 5"),
        ({"max_wiat_s": 30}, "unknown field 'max_wiat_s'"),
        ({"lawyers_only": "maybe"},
         "lawyers_only: Input should be a valid boolean, unable to interpret input"),
        ({"escalation": [{"after_s": 30}]},
         "escalation[0]: step after 30 s relaxes nothing: "
         "give min_level_delta, relax_to or any_operator"),
        ({"escalation": [{"after_s": 30, "min_level_delta": 1}]},
         f"escalation[0].min_level_delta: {LE} -1"),
        ({"escalation": [{"after_s": 30, "relax_to": {"legal": 9}}]},
         f"escalation[0].relax_to.legal: {LE} 5"),
        ({"escalation": [{"min_level_delta": -1}]}, "escalation[0]: missing field 'after_s'"),
    ],
)  # fmt: skip
def test_a_bad_field_is_named_with_its_queue(settings: dict[str, Any], problem: str) -> None:
    assert f"queue 'operator': {problem}" in problems(with_queue(**settings))


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({"overflow": "nowhere"}, "overflow goes to unknown node 'nowhere'"),
        ({"callback_key": "12"}, f"callback_key '12' {NOT_A_KEY}"),
        ({"message_key": "x"}, f"message_key 'x' {NOT_A_KEY}"),
        ({"callback_key": 3, "message_key": 3}, "callback_key and message_key are both '3'"),
        ({"escalation": [{"after_s": 30, "any_operator": True},
                         {"after_s": 30, "min_level_delta": -1}]},
         "escalation steps share a time (30, 30 s)"),
        ({"max_wait_s": 60, "escalation": [{"after_s": 90, "any_operator": True}]},
         "escalation after 90 s never happens: max_wait_s is 60"),
        ({"announce_every_s": 30}, "position_prompt uses unknown prompt 'queue_position'"),
    ],
)  # fmt: skip
def test_a_queue_that_cant_work_is_refused(settings: dict[str, Any], problem: str) -> None:
    assert f"queue 'operator': {problem}" in problems(with_queue(**settings))


def test_a_queue_name_the_dialplan_would_mangle_is_refused() -> None:
    data = with_queue()
    data["queues"] = {"Legal-Desk": {}}
    assert problems(data) == [
        "queue 'Legal-Desk': a queue name is a-z first, then a-z or _ (32 at most)"
    ]


def test_a_malformed_queues_section_is_refused_not_ignored() -> None:
    data = with_queue()
    data["queues"] = ["operator"]
    assert problems(data) == ["queues: Input should be a valid dictionary"]


def test_good_settings_pass_and_the_overflow_node_counts_as_reachable() -> None:
    data = with_queue(announce_every_s=30, max_wait_s=120, overflow="sorry", callback_key="*",
                      escalation=[{"after_s": 60, "any_operator": True}])  # fmt: skip
    data["prompts"] |= {
        "queue_position": {"zh": "第{position}位", "en": "number {position}"},
        "queue_wait": {"zh": "{wait_minutes}分钟", "en": "{wait_minutes} min"},
    }
    data["nodes"]["sorry"] = {"type": "hangup", "prompt": "hi"}
    flow, issues = validate_flow(data)
    assert issues == [] and flow is not None
    assert flow.queue_settings("operator").callback_key == "*"
    assert ("queue 'operator' overflow", "sorry") in node_exits(flow, flow.nodes["agent"])


def test_an_unconfigured_queue_gets_the_defaults() -> None:
    flow, _ = validate_flow(with_queue())
    assert flow is not None
    defaults = flow.queue_settings("legal")
    assert (defaults.callback_key, defaults.message_key) == ("1", "2")
    assert defaults.overflow is None and defaults.announce_every_s is None
    assert defaults.lawyers_only is True and defaults.escalation == ()


def test_settings_become_the_acd_queue_rules() -> None:
    settings = QueueSettings.model_validate({
        "wrap_up_s": 7, "lawyers_only": False,
        "escalation": [{"after_s": 60, "any_operator": True},
                       {"after_s": 20, "min_level_delta": -1, "relax_to": {"legal": 3}}],
    })  # fmt: skip
    assert queue_rules("legal", settings) == QueueRules(
        name="legal",
        escalation=[EscalationStep(20, -1, {"legal": 3}), EscalationStep(60, any_operator=True)],
        lawyers_take_non_legal=True,
        wrap_up_s=7,
    )


def test_every_configured_queue_of_a_flow_gets_rules() -> None:
    flow, _ = validate_flow(with_queue(wrap_up_s=3))
    assert flow is not None
    assert flow_queue_rules(flow) == {"operator": QueueRules("operator", wrap_up_s=3)}


def test_issues_are_flow_wide_not_tied_to_a_node() -> None:
    _, issues = validate_flow(with_queue(overflow="nowhere"))
    assert FlowIssue(None, "queue 'operator': overflow goes to unknown node 'nowhere'") in issues
