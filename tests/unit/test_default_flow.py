"""The shipped 12351 flow: every destination reachable by keys, and no caller left stranded."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import ivr
from ivr.flow.engine import Ask, Digits, Finish, FlowRun, Handoff, Outcome, Play, Played, simulate
from ivr.flow.model import Flow, HandoffNode, MenuNode
from ivr.flow.validate import load_flow

pytestmark = pytest.mark.unit

SHANGHAI = ZoneInfo("Asia/Shanghai")
TUESDAY_10AM = datetime(2026, 3, 10, 10, 0, tzinfo=SHANGHAI)
TUESDAY_NOON = datetime(2026, 3, 10, 12, 30, tzinfo=SHANGHAI)
NATIONAL_DAY_10AM = datetime(2026, 10, 1, 10, 0, tzinfo=SHANGHAI)
MAKE_UP_SATURDAY_10AM = datetime(2026, 10, 10, 10, 0, tzinfo=SHANGHAI)
DEFAULT_YAML = Path(ivr.__file__).parent / "flows" / "default.yaml"


@pytest.fixture(scope="module")
def flow() -> Flow:
    return load_flow(DEFAULT_YAML.read_text(encoding="utf-8"))


def visited(run: FlowRun) -> list[str]:
    return [step.node for step in run.path]


def handoff_after(flow: Flow, keys: list[str | None], clock: datetime = TUESDAY_10AM) -> Handoff:
    """The handoff the caller reaches with these keys (the run must be waiting on it)."""
    run = FlowRun(flow, clock=clock)
    instruction = run.start()
    remaining = list(keys)
    while not isinstance(instruction, Handoff):
        if isinstance(instruction, Play):
            instruction = run.resume(Played(), 0)
            continue
        assert isinstance(instruction, Ask | Finish) and remaining, f"stuck at {run.node_id}"
        key = remaining.pop(0)
        instruction = run.resume(Digits("" if key is None else key), 0)
    assert remaining == []
    return instruction


@pytest.mark.parametrize(
    ("keys", "queue", "topic"),
    [
        (["1", "1"], "legal", "legal"),
        (["1", "2"], "wage_arrears", "wage_arrears"),
        (["1", "3"], "work_injury", "work_injury"),
        (["1", "5"], "operator", "other"),
        (["1", "0"], "operator", None),
    ],
)
def test_main_menu_reaches_each_queue(
    flow: Flow, keys: list[str | None], queue: str, topic: str | None
) -> None:
    handoff = handoff_after(flow, keys)
    assert handoff.kind == "queue"
    assert handoff.params["queue"] == queue
    assert handoff.params["skills"] == [queue]
    assert handoff.variables.get("topic") == topic
    assert handoff.language == "zh"


def test_english_callers_are_queued_as_english(flow: Flow) -> None:
    handoff = handoff_after(flow, ["2", "2"])
    assert (handoff.params["queue"], handoff.language) == ("wage_arrears", "en")


@pytest.mark.parametrize("clock", [NATIONAL_DAY_10AM, TUESDAY_NOON])
def test_legal_after_hours_tells_the_hours_then_offers_message_or_callback(
    flow: Flow, clock: datetime
) -> None:
    run = FlowRun(flow, clock=clock)
    run.start()
    run.resume(Played(), 0)
    run.resume(Digits("1"), 0)
    hours = run.resume(Digits("1"), 0)
    assert isinstance(hours, Play) and hours.prompts[0].id == "lawyer_hours"
    assert "9点" in hours.prompts[0].text
    offer = run.resume(Played(), 0)
    assert isinstance(offer, Ask) and offer.prompts[0].id == "after_hours_menu"


@pytest.mark.parametrize(
    ("key", "kind", "queue"),
    [("1", "message", None), ("2", "callback", "legal"), ("0", "queue", "operator")],
)
def test_after_hours_menu_destinations(flow: Flow, key: str, kind: str, queue: str | None) -> None:
    handoff = handoff_after(flow, ["1", "1", key], clock=NATIONAL_DAY_10AM)
    assert (handoff.kind, handoff.params.get("queue")) == (kind, queue)
    assert handoff.variables["topic"] == "legal"


def test_lawyers_work_on_a_make_up_saturday(flow: Flow) -> None:
    assert handoff_after(flow, ["1", "1"], clock=MAKE_UP_SATURDAY_10AM).params["queue"] == "legal"


def test_order_status_found(flow: Flow) -> None:
    run = simulate(flow, ["1", "4", "20260310001", "1"], TUESDAY_10AM, {"order_lookup": "found"})
    assert run.variables["order_no"] == "20260310001"
    assert visited(run)[-2:] == ["order_found", "after_order_menu"]
    pending = run.pending
    assert isinstance(pending, Ask) and pending.prompts[0].id == "after_order_menu"


def test_order_status_result_is_spoken(flow: Flow) -> None:
    run = FlowRun(flow, clock=TUESDAY_10AM)
    run.start()
    for reply in (Played(), Digits("1"), Digits("4"), Digits("2026031000123#")):
        run.resume(reply, 0)
    lookup = run.resume(Digits("1"), 0)
    assert isinstance(lookup, Handoff) and lookup.kind == "order_status"
    assert lookup.params == {"variable": "order_no"}
    assert lookup.variables["order_no"] == "2026031000123"
    play = run.resume(Outcome("found", {"order_status": "律师已受理"}), 0)
    assert isinstance(play, Play)
    assert play.prompts[0].text == "您的工单当前状态为：律师已受理。"


def test_order_not_found_then_back_to_main_menu(flow: Flow) -> None:
    run = simulate(
        flow, ["1", "4", "1234567890", "1", "1"], TUESDAY_10AM, {"order_lookup": "not_found"}
    )
    assert "order_not_found" in visited(run)
    assert run.node_id == "main_menu"


def test_silence_after_an_order_answer_says_goodbye(flow: Flow) -> None:
    run = simulate(flow, ["1", "4", "1234567890", "1", None, None, None], TUESDAY_10AM)
    assert run.result == "completed"
    assert visited(run)[-1] == "end_goodbye"


def test_a_short_order_number_is_asked_again(flow: Flow) -> None:
    run = simulate(flow, ["1", "4", "12345"], TUESDAY_10AM)
    pending = run.pending
    assert isinstance(pending, Ask)
    assert [p.id for p in pending.prompts] == ["order_number_invalid", "order_number"]


@pytest.mark.parametrize(
    "keys",
    [
        ["1", "7", None, "9"],
        ["1", None, None, None],
        ["1", "A", "#", "*"],
    ],
)
def test_a_caller_who_cannot_use_the_keypad_reaches_an_operator(
    flow: Flow, keys: list[str | None]
) -> None:
    handoff = handoff_after(flow, keys)
    assert handoff.params["queue"] == "operator"


def test_three_bad_order_numbers_reach_an_operator(flow: Flow) -> None:
    handoff = handoff_after(flow, ["1", "4", "1", "22", None])
    assert handoff.params["queue"] == "operator"


def test_key_zero_from_every_menu_reaches_the_operator(flow: Flow) -> None:
    menus = [node_id for node_id, node in flow.nodes.items() if isinstance(node, MenuNode)]
    assert len(menus) == 4
    for menu_id in menus:
        run = FlowRun(flow.model_copy(update={"start": menu_id}), clock=NATIONAL_DAY_10AM)
        assert isinstance(run.start(), Ask)
        handoff = run.resume(Digits("0"), 0)
        assert isinstance(handoff, Handoff), menu_id
        assert handoff.node_id == "operator_queue", menu_id


@pytest.mark.parametrize(
    ("outcome", "result"),
    [("answered", "completed"), ("hangup", "caller_hangup")],
)
def test_queue_outcomes_that_end_the_call(flow: Flow, outcome: str, result: str) -> None:
    run = simulate(flow, ["1", "2"], TUESDAY_10AM, {"queue": outcome})
    assert run.result == result


def _in_queue(flow: Flow) -> FlowRun:
    run = FlowRun(flow, clock=TUESDAY_10AM)
    run.start()
    for reply in (Played(), Digits("1"), Digits("3")):
        run.resume(reply, 0)
    return run


def test_queue_message_key_hands_over_to_the_message_recorder(flow: Flow) -> None:
    handoff = _in_queue(flow).resume(Outcome("message"), 0)
    assert isinstance(handoff, Handoff) and handoff.kind == "message"


def test_queue_callback_keeps_the_place_and_says_goodbye(flow: Flow) -> None:
    # The ACD keeps the caller in line; no separate callback booking is made.
    end = _in_queue(flow).resume(Outcome("callback", {"callback_kept": "1"}), 0)
    assert isinstance(end, Finish) and end.result == "callback_kept"
    assert [p.id for p in end.prompts] == ["callback_kept"]


def test_queue_overflow_goes_to_the_queue_settings_overflow_node(flow: Flow) -> None:
    assert flow.queue_settings("work_injury").overflow == "staff_busy"
    played = _in_queue(flow).resume(Outcome("overflow"), 0)
    assert isinstance(played, Play) and [p.id for p in played.prompts] == ["staff_busy"]


def test_queue_timeout_offers_message_or_callback(flow: Flow) -> None:
    run = simulate(
        flow,
        ["1", "3", "1"],
        TUESDAY_10AM,
        {"work_injury_queue": "timeout", "leave_message": "recorded"},
    )
    assert visited(run)[-4:] == ["staff_busy", "busy_menu", "leave_message", "end_message_recorded"]
    assert run.result == "message_left"


def test_welcome_announces_the_recording(flow: Flow) -> None:
    welcome = FlowRun(flow, clock=TUESDAY_10AM).start()
    assert isinstance(welcome, Play)
    assert "12351" in welcome.prompts[0].text and "录音" in welcome.prompts[0].text


def test_language_prompt_timeout_keeps_mandarin_at_once(flow: Flow) -> None:
    run = simulate(flow, [None], TUESDAY_10AM)
    assert run.language == "zh" and run.node_id == "main_menu"


def test_shape_of_the_default_flow(flow: Flow) -> None:
    main = flow.nodes["main_menu"]
    assert isinstance(main, MenuNode) and len(main.choices) <= 5
    assert all(set(texts) == {"zh", "en"} for texts in flow.prompts.values())
    queues = [n for n in flow.nodes.values() if isinstance(n, HandoffNode) and n.type == "queue"]
    assert {q.params["queue"] for q in queues} == {
        "legal",
        "wage_arrears",
        "work_injury",
        "operator",
    }
    assert all(q.params["skills"] == [q.params["queue"]] for q in queues)
    assert flow.schedules["operators"].always
