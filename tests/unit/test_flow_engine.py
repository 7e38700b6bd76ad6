"""The flow engine: each node type, retries, protocol errors and the guards on endless calls."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ivr.flow.engine import (
    Ask,
    Digits,
    Finish,
    FlowProtocolError,
    FlowRun,
    Handoff,
    Instruction,
    Outcome,
    Play,
    Played,
    Prompt,
    SayDigits,
    simulate,
)
from ivr.flow.model import Flow
from ivr.flow.validate import load_flow

pytestmark = pytest.mark.unit

SHANGHAI = ZoneInfo("Asia/Shanghai")
OPEN = datetime(2026, 3, 10, 10, 0, tzinfo=SHANGHAI)  # a Tuesday morning
CLOSED = datetime(2026, 3, 10, 20, 0, tzinfo=SHANGHAI)
FLOWS = Path(__file__).parent / "flows"


@pytest.fixture(scope="module")
def flow() -> Flow:
    return load_flow((FLOWS / "engine.yaml").read_text(encoding="utf-8"))


def at_main(flow: Flow, clock: datetime = OPEN, language_key: str = "1") -> tuple[FlowRun, Ask]:
    run = FlowRun(flow, clock=clock, caller="13800000000")
    run.start()
    run.resume(Played(), 100)
    ask = run.resume(Digits(language_key), 200)
    assert isinstance(ask, Ask)
    return run, ask


def outcomes(run: FlowRun) -> list[tuple[str, str | None, str | None]]:
    return [(step.node, step.input, step.outcome) for step in run.path]


def unchecked(nodes: dict[str, Any], start: str = "a") -> Flow:
    """A flow that skipped the validator, as a buggy store might hand the engine."""
    return Flow.model_validate(
        {
            "id": "unchecked",
            "languages": ["zh"],
            "default_language": "zh",
            "start": start,
            "operator": start,
            "prompts": {"p": {"zh": "提示"}},
            "nodes": nodes,
        }
    )


# -- play, language --------------------------------------------------------------------------


def test_start_plays_the_welcome_in_the_default_language(flow: Flow) -> None:
    run = FlowRun(flow, clock=OPEN)
    assert run.start() == Play((Prompt("welcome", "zh", "欢迎"),))
    assert run.language == "zh"
    assert not run.finished


def test_language_choice_is_offered_in_every_language(flow: Flow) -> None:
    run = FlowRun(flow, clock=OPEN)
    run.start()
    ask = run.resume(Played(), 0)
    assert ask == Ask(
        (Prompt("pick", "zh", "中文请按1"), Prompt("pick", "en", "For English press 2")),
        max_digits=1,
        timeout_s=5.0,
        terminator=None,
    )


def test_choosing_english_switches_every_later_prompt(flow: Flow) -> None:
    run, ask = at_main(flow, language_key="2")
    assert run.language == "en"
    assert ask.prompts == (Prompt("menu", "en", "Menu"),)


@pytest.mark.parametrize("key", ["", "9", "A", "x1"])
def test_no_language_choice_keeps_mandarin(flow: Flow, key: str) -> None:
    run, ask = at_main(flow, language_key=key)
    assert run.language == "zh"
    assert ask.prompts == (Prompt("menu", "zh", "菜单"),)
    outcome = "timeout_max_tries" if key == "" else "invalid_max_tries"
    assert outcomes(run)[1] == ("pick_language", key, outcome)


# -- menu ------------------------------------------------------------------------------------


def test_invalid_key_repeats_the_menu_after_the_invalid_prompt(flow: Flow) -> None:
    run, _ = at_main(flow)
    again = run.resume(Digits("7"), 300)
    assert isinstance(again, Ask)
    assert [p.id for p in again.prompts] == ["sorry", "menu"]


def test_timeout_uses_the_timeout_prompt(flow: Flow) -> None:
    run, _ = at_main(flow)
    again = run.resume(Digits(""), 300)
    assert isinstance(again, Ask)
    assert [p.id for p in again.prompts] == ["silence", "menu"]


@pytest.mark.parametrize("junk", ["A", "D", "x", "12", "00", " ", "１"])
def test_anything_not_a_choice_is_invalid(flow: Flow, junk: str) -> None:
    run, _ = at_main(flow)
    run.resume(Digits(junk), 300)
    assert outcomes(run)[-2] == ("main", junk, "invalid")


def test_three_invalid_keys_take_on_invalid(flow: Flow) -> None:
    run, _ = at_main(flow)
    run.resume(Digits("7"), 300)
    run.resume(Digits("8"), 400)
    finish = run.resume(Digits("9"), 500)
    assert finish == Finish("too_many_invalid", ())
    assert run.result == "too_many_invalid"
    assert [o for node, _, o in outcomes(run) if node == "main"] == [
        "invalid",
        "invalid",
        "invalid_max_tries",
    ]


def test_exit_follows_the_last_failure(flow: Flow) -> None:
    run, _ = at_main(flow)
    run.resume(Digits("7"), 300)
    run.resume(Digits("8"), 400)
    handoff = run.resume(Digits(""), 500)
    assert isinstance(handoff, Handoff) and handoff.node_id == "agent"
    assert outcomes(run)[-2] == ("main", "", "timeout_max_tries")


def test_a_valid_key_after_a_mistake_still_works(flow: Flow) -> None:
    run, _ = at_main(flow)
    run.resume(Digits("7"), 300)
    finish = run.resume(Digits("#"), 400)
    assert finish == Finish("completed", (Prompt("bye", "zh", "再见"),))


def test_key_zero_reaches_the_operator(flow: Flow) -> None:
    run, _ = at_main(flow)
    handoff = run.resume(Digits("0"), 300)
    assert isinstance(handoff, Handoff)
    assert (handoff.kind, handoff.node_id) == ("queue", "agent")
    assert handoff.params == {"queue": "operator", "skills": ["operator"], "priority": 0}
    assert outcomes(run)[2] == ("main", "0", "operator")


def test_a_menu_can_claim_key_zero_for_itself(flow: Flow) -> None:
    nodes = dict(flow.nodes)
    nodes["main"] = nodes["main"].model_copy(update={"choices": {"0": "goodbye"}})
    claimed = flow.model_copy(update={"nodes": nodes})
    run, _ = at_main(claimed)
    assert run.resume(Digits("0"), 300) == Finish("completed", (Prompt("bye", "zh", "再见"),))


# -- collect ---------------------------------------------------------------------------------


def test_collect_reads_digits_back_then_asks_to_confirm(flow: Flow) -> None:
    run, _ = at_main(flow)
    ask = run.resume(Digits("1"), 300)
    assert ask == Ask((Prompt("pin", "zh", "请输入密码"),), 6, 5.0, "#")
    readback = run.resume(Digits("1234#"), 400)
    assert readback == SayDigits(
        "1234",
        "zh",
        Ask((Prompt("pin_confirm", "zh", "确认请按1"),), 1, 5.0, None),
        (Prompt("pin_intro", "zh", "您输入的是"),),
    )
    handoff = run.resume(Digits("1"), 500)
    assert isinstance(handoff, Handoff) and handoff.kind == "order_status"
    assert handoff.variables["pin"] == "1234"
    assert run.variables["pin"] == "1234"
    assert outcomes(run)[-3:-1] == [("ask_pin", "1234", "read_back"), ("ask_pin", "1", "confirmed")]


def test_two_hundred_digits_are_cut_to_max_digits(flow: Flow) -> None:
    run, _ = at_main(flow)
    run.resume(Digits("1"), 300)
    readback = run.resume(Digits("9" * 200), 400)
    assert isinstance(readback, SayDigits) and readback.digits == "999999"


def test_long_junk_is_recorded_short(flow: Flow) -> None:
    run, _ = at_main(flow)
    run.resume(Digits("1"), 300)
    run.resume(Digits("A" * 200), 400)
    node, keys, outcome = outcomes(run)[-2]
    assert (node, outcome) == ("ask_pin", "invalid")
    assert keys is not None and len(keys) == 64


@pytest.mark.parametrize("entry", ["12", "12a4", "12*4", "#1234"])
def test_entries_that_fail_the_rules_are_invalid(flow: Flow, entry: str) -> None:
    run, _ = at_main(flow)
    run.resume(Digits("1"), 300)
    again = run.resume(Digits(entry), 400)
    assert isinstance(again, Ask)
    assert [p.id for p in again.prompts] == ["sorry", "pin"]


def test_rejecting_the_read_back_asks_again_without_scolding(flow: Flow) -> None:
    run, _ = at_main(flow)
    run.resume(Digits("1"), 300)
    run.resume(Digits("1234"), 400)
    again = run.resume(Digits("2"), 500)
    assert isinstance(again, Ask) and [p.id for p in again.prompts] == ["pin"]
    assert "pin" not in run.variables


def test_confirm_failures_count_as_tries(flow: Flow) -> None:
    run, _ = at_main(flow)
    run.resume(Digits("1"), 300)
    for key in ("2", "", "7"):
        run.resume(Digits("1234"), 400)
        last = run.resume(Digits(key), 500)
    assert isinstance(last, Handoff) and last.node_id == "agent"
    assert [o for n, _, o in outcomes(run) if n == "ask_pin"][-1] == "invalid_max_tries"


# -- hours, set, goto, handoff ---------------------------------------------------------------


def test_hours_open_goes_to_the_queue(flow: Flow) -> None:
    run, _ = at_main(flow, clock=OPEN)
    handoff = run.resume(Digits("2"), 300)
    assert isinstance(handoff, Handoff) and handoff.node_id == "agent"
    assert ("office_hours", None, "open") in outcomes(run)


def test_hours_closed_plays_the_closed_prompt(flow: Flow) -> None:
    run, _ = at_main(flow, clock=CLOSED)
    assert run.resume(Digits("2"), 300) == Play((Prompt("closed", "zh", "已下班"),))
    assert ("office_hours", None, "closed") in outcomes(run)


def test_hours_are_checked_at_call_start_plus_elapsed(flow: Flow) -> None:
    just_before = datetime(2026, 3, 10, 16, 59, 58, tzinfo=SHANGHAI)
    run, _ = at_main(flow, clock=just_before)
    assert isinstance(run.resume(Digits("2"), 5000), Play)


def test_set_and_goto_pass_straight_through(flow: Flow) -> None:
    run, _ = at_main(flow)
    handoff = run.resume(Digits("3"), 300)
    assert isinstance(handoff, Handoff)
    assert handoff.variables == {"caller": "13800000000", "topic": "test", "level": "1"}
    assert outcomes(run)[3:5] == [("tag", None, "set"), ("jump", None, "goto")]


def test_outcome_variables_fill_prompt_text(flow: Flow) -> None:
    run, _ = at_main(flow)
    run.resume(Digits("1"), 300)
    run.resume(Digits("1234"), 400)
    run.resume(Digits("1"), 500)
    play = run.resume(Outcome("found", {"state": "处理中"}), 600)
    assert play == Play((Prompt("status", "zh", "状态：处理中"),))


def test_an_unmapped_outcome_ends_the_call(flow: Flow) -> None:
    run, _ = at_main(flow)
    run.resume(Digits("0"), 300)
    assert run.resume(Outcome("callback"), 400) == Finish("queue_callback", ())
    assert run.finished and run.result == "queue_callback"


def test_a_queue_timeout_can_lead_back_to_the_menu(flow: Flow) -> None:
    run, _ = at_main(flow)
    run.resume(Digits("0"), 300)
    again = run.resume(Outcome("timeout"), 400)
    assert isinstance(again, Ask) and [p.id for p in again.prompts] == ["menu"]


# -- protocol --------------------------------------------------------------------------------


def test_an_outcome_the_kind_does_not_have_is_a_protocol_error(flow: Flow) -> None:
    run, _ = at_main(flow)
    pending = run.resume(Digits("0"), 300)
    with pytest.raises(FlowProtocolError, match="'matched' is not an outcome of handoff 'queue'"):
        run.resume(Outcome("matched"), 400)
    assert run.pending == pending
    assert isinstance(run.resume(Outcome("answered"), 500), Finish)


@pytest.mark.parametrize("reply", [Played(), Outcome("answered")])
def test_the_wrong_reply_type_is_a_protocol_error(flow: Flow, reply: Any) -> None:
    run, _ = at_main(flow)
    with pytest.raises(FlowProtocolError, match="Ask expects Digits"):
        run.resume(reply, 300)


def test_start_twice_resume_early_and_resume_late_are_protocol_errors(flow: Flow) -> None:
    run = FlowRun(flow, clock=OPEN)
    with pytest.raises(FlowProtocolError, match="not started"):
        run.resume(Played(), 0)
    run.start()
    with pytest.raises(FlowProtocolError, match="already started"):
        run.start()
    run.resume(Played(), 0)
    run.resume(Digits("1"), 0)
    run.resume(Digits("#"), 0)
    with pytest.raises(FlowProtocolError, match="finished"):
        run.resume(Digits("1"), 0)


def test_naive_clock_is_refused(flow: Flow) -> None:
    with pytest.raises(ValueError, match="time-zone aware"):
        FlowRun(flow, clock=datetime(2026, 3, 10, 10, 0))


# -- guards ----------------------------------------------------------------------------------


def test_a_silent_loop_ends_at_the_step_budget() -> None:
    looping = unchecked(
        {"a": {"type": "goto", "target": "b"}, "b": {"type": "goto", "target": "a"}}
    )
    run = FlowRun(looping, clock=OPEN, max_steps=50)
    assert run.start() == Finish("loop_guard", ())
    assert len(run.path) == 50


def test_a_play_loop_ends_at_the_step_budget() -> None:
    looping = unchecked(
        {"a": {"type": "play", "prompt": "p", "next": "b"}, "b": {"type": "goto", "target": "a"}}
    )
    run = FlowRun(looping, clock=OPEN, max_steps=20)
    instruction: Instruction = run.start()
    plays = 0
    while isinstance(instruction, Play):
        plays += 1
        instruction = run.resume(Played(), plays)
    assert instruction == Finish("loop_guard", ())
    assert plays == 10


def test_a_caller_pressing_forever_is_cut_off() -> None:
    menu = {"type": "menu", "prompt": "p", "choices": {"1": "a"}, "on_exit": "a"}
    run = FlowRun(unchecked({"a": menu}), clock=OPEN)
    instruction: Instruction = run.start()
    presses = 0
    while isinstance(instruction, Ask):
        presses += 1
        instruction = run.resume(Digits("1"), presses)
    assert instruction == Finish("input_limit", ())
    assert presses == 200
    assert run.path[-1].outcome == "input_limit"


def test_an_unknown_node_in_an_unchecked_flow_ends_the_call() -> None:
    broken = unchecked({"a": {"type": "goto", "target": "nowhere"}})
    assert FlowRun(broken, clock=OPEN).start() == Finish("flow_error", ())


# -- the record ------------------------------------------------------------------------------


def test_path_records_times_and_serialises(flow: Flow) -> None:
    run, _ = at_main(flow)
    run.resume(Digits("0"), 300)
    run.resume(Outcome("answered"), 90_000)
    rows = run.path_as_dicts()
    assert json.loads(json.dumps(rows)) == rows
    assert rows[0] == {
        "node": "welcome",
        "type": "play",
        "input": None,
        "outcome": "played",
        "at_ms": 0,
    }
    assert [row["at_ms"] for row in rows] == [0, 100, 200, 300, 90_000]
    assert rows[-1]["outcome"] == "completed"


def test_runs_are_deterministic(flow: Flow) -> None:
    keys: list[str | None] = ["2", "7", None, "1", "123456", "2", "4321", "1"]
    first = simulate(flow, keys, OPEN, {"lookup": "found"})
    second = simulate(flow, keys, OPEN, {"lookup": "found"})
    assert first.path == second.path
    assert first.result == second.result == "completed"


# -- simulate --------------------------------------------------------------------------------


def test_simulate_stops_where_the_keys_run_out(flow: Flow) -> None:
    run = simulate(flow, ["1"], OPEN)
    assert not run.finished
    assert run.node_id == "main"
    assert isinstance(run.pending, Ask)


def test_simulate_answers_handoffs_from_the_mapping(flow: Flow) -> None:
    by_kind = simulate(flow, ["1", "0"], OPEN, {"queue": "hangup"})
    assert by_kind.result == "queue_hangup"
    by_default = simulate(flow, ["1", "0"], OPEN)
    assert by_default.result == "completed"  # first `on` outcome: answered -> goodbye
