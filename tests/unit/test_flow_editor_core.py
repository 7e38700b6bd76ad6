"""The flow editor's pure parts on the shipped flow: issue lines, the SVG graph, the walk."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from ivr.flow import load_flow, simulate, validate_flow_text
from ivr.flow.graph import COLOURS, edge_label, flow_svg, layout
from ivr.flow.locate import flow_lines, locate
from ivr.flow.validate import parse_flow_yaml
from ivr.flow.walk import TIMEOUT, WalkInputError, WalkStart, choose, press, walk
from ivr.prompt_preview import slin_to_wav
from ivr.publishing import packaged_flow_text

pytestmark = pytest.mark.unit

SVG = "{http://www.w3.org/2000/svg}"
SHANGHAI = ZoneInfo("Asia/Shanghai")
TUESDAY_10 = WalkStart(datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI))
TUESDAY_20 = WalkStart(datetime(2026, 11, 24, 20, 0, tzinfo=SHANGHAI))
TEXT = packaged_flow_text()
FLOW = load_flow(TEXT)


def line_of(text: str, exact: str) -> int:
    return text.splitlines().index(exact) + 1


# -- locating issues -------------------------------------------------------------------------


def test_a_bad_menu_target_is_at_its_choice_line_and_unreachable_nodes_at_theirs() -> None:
    text = TEXT.replace("      2: topic_wage_arrears\n", "      2: topic_wages\n")
    _, issues = validate_flow_text(text)
    located = {(i.node, i.line) for i in locate(text, issues)}
    assert ("main_menu", line_of(text, "      2: topic_wages")) in located
    assert ("topic_wage_arrears", line_of(text, "  topic_wage_arrears:")) in located


def test_schema_errors_point_at_the_field() -> None:
    text = TEXT.replace("    timeout_s: 3\n", "    timeout_s: -3\n", 1)
    text = text.replace(
        "    type: play\n    prompt: welcome", "    type: plai\n    prompt: welcome"
    )
    _, issues = validate_flow_text(text)
    located = {(i.node, i.line) for i in locate(text, issues)}
    assert ("welcome", line_of(text, "    type: plai")) in located
    assert ("choose_language", line_of(text, "    timeout_s: -3")) in located


def test_flow_wide_issues_point_at_the_top_key_prompt_or_yaml_error() -> None:
    text = TEXT.replace("start: welcome", "start: nowhere")
    text = text.replace("prompts:\n", "prompts:\n  spare:\n    zh: 备用\n")  # no English
    _, issues = validate_flow_text(text)
    lines = {i.problem.split(" ")[0]: i.line for i in locate(text, issues) if i.node is None}
    assert lines["start"] == line_of(text, "start: nowhere")
    assert lines["prompt"] == line_of(text, "  spare:")
    broken = "id: default\nnodes:\n  a: [oops\n"
    _, issues = validate_flow_text(broken)
    assert [i.line for i in locate(broken, issues)] == [4]  # PyYAML's mark: end of input


def test_line_map_survives_text_that_is_not_yaml() -> None:
    assert flow_lines("::: [").nodes == {}
    assert flow_lines("- a list").top == {}
    assert flow_lines(TEXT).nodes["main_menu"].children["choices"]["4"] == line_of(
        TEXT, "      4: order_number"
    )


# -- the graph -------------------------------------------------------------------------------


def test_layout_puts_each_node_one_column_after_its_nearest_parent() -> None:
    plan = layout(FLOW)
    assert set(plan.boxes) == set(FLOW.nodes)
    column = {n: b.column for n, b in plan.boxes.items()}
    assert column["welcome"] == 0 and column["choose_language"] == 1
    assert column["main_menu"] == 2 and column["topic_legal"] == 3
    assert column["legal_queue"] == 5 and column["lawyer_callback"] == 7
    places = [(b.column, b.row) for b in plan.boxes.values()]
    assert len(places) == len(set(places))  # no two boxes on top of each other


def test_svg_has_one_coloured_box_per_node_and_labelled_edges() -> None:
    root = ET.fromstring(flow_svg(FLOW))
    groups = {g.get("data-node"): g for g in root.iter(f"{SVG}g") if g.get("data-node")}
    assert set(groups) == set(FLOW.nodes)
    menu = groups["main_menu"]
    rect = menu.find(f"{SVG}rect")
    assert rect is not None and rect.get("fill") == COLOURS["menu"]
    assert groups["legal_queue"].get("data-type") == "handoff"
    assert groups["end_goodbye"].find(f"{SVG}rect").get("fill") == COLOURS["hangup"]  # type: ignore[union-attr]
    edges = {
        (g.get("data-from"), g.get("data-to"), g.get("data-label"))
        for g in root.iter(f"{SVG}g")
        if g.get("class") == "edge"
    }
    assert ("main_menu", "topic_legal", "1") in edges
    assert ("main_menu", "operator_hours", "on_exit") in edges
    assert ("legal_hours", "lawyers_closed", "closed") in edges
    assert ("legal_queue", "staff_busy", "timeout") in edges
    assert ("welcome", "choose_language", "") in edges
    # Each node's own exits, the implicit key-0 edge of menus, and each queue node's overflow
    # from the flow's `queues:` section (unless the node names its own overflow outcome).
    overflows = sum(
        1
        for n in FLOW.nodes.values()
        if n.type == "queue"
        and FLOW.queue_settings(n.params.get("queue", "operator")).overflow  # type: ignore[attr-defined]
        and "overflow" not in n.on  # type: ignore[attr-defined]
    )
    assert overflows == 4  # the shipped flow's four queues overflow to staff_busy
    expected = sum(len(node.exits()) for node in FLOW.nodes.values()) + overflows + sum(
        1
        for n in FLOW.nodes.values()
        if n.type == "menu" and "0" not in n.choices  # type: ignore[attr-defined]
    )
    assert len(edges) <= expected and len(edges) > 50
    assert any(src == "legal_queue" and dst == "staff_busy" for src, dst, _ in edges)


def test_svg_marks_problem_nodes_missing_targets_and_the_walk() -> None:
    text = TEXT.replace("      2: topic_wage_arrears\n", "      2: topic_wages\n")
    flow = FLOW.model_validate(parse_flow_yaml(text)[0])
    svg = flow_svg(flow, {"main_menu": ["choice '2' goes to unknown node 'topic_wages'"]})
    assert re.search(r'class="node node-menu has-issue" id="graph-node-main_menu"', svg)
    assert 'id="graph-node-topic_wages" data-node="topic_wages" data-type="missing"' in svg
    assert "choice &#x27;2&#x27; goes to unknown node" in svg  # the tooltip, escaped
    walked = flow_svg(FLOW, current="main_menu", visited={"welcome"})
    assert 'class="node node-menu current"' in walked and "node-play visited" in walked


def test_node_ids_and_texts_are_escaped() -> None:
    flow = FLOW.model_copy(update={"id": "x<y"})
    assert "<y" not in flow_svg(flow).split("aria-label=")[1][:20]


def test_edge_labels() -> None:
    assert edge_label("choice '5'") == "5"
    assert edge_label("outcome 'not_found'") == "not_found"
    assert edge_label("key '0' (operator)") == "0"
    assert edge_label("next") == "" and edge_label("open") == "open"


# -- the walk --------------------------------------------------------------------------------


def test_walk_is_the_engines_path_for_the_same_keys() -> None:
    current = walk(FLOW, TUESDAY_10, [])
    assert current.node == "choose_language"
    assert [h.node for h in current.heard] == ["welcome", "choose_language"]
    assert current.heard[0].prompts[0].text.startswith("您好，这里是12351")
    for key in ("1", "2"):
        current = press(FLOW, TUESDAY_10, current, key)
    assert current.node == "wage_arrears_queue" and current.waiting is not None
    assert current.waiting.kind == "handoff" and "answered" in current.waiting.outcomes
    assert current.variables["topic"] == "wage_arrears"
    done = choose(FLOW, TUESDAY_10, current, "answered")
    answered = {"wage_arrears_queue": "answered"}
    engine = simulate(FLOW, ["1", "2"], TUESDAY_10.clock, answered, caller=TUESDAY_10.caller)
    assert list(done.path) == engine.path and done.variables == engine.variables
    assert done.finished and done.result == "completed" and done.waiting is None
    assert done.heard[-1].kind == "finish" and done.heard[-1].prompts[0].id == "goodbye"


def test_walk_follows_the_chosen_clock_and_language() -> None:
    open_day = walk(FLOW, TUESDAY_10, ["2", "1"])
    assert open_day.node == "legal_queue" and open_day.language == "en"
    evening = walk(FLOW, TUESDAY_20, ["2", "1"])
    assert evening.node == "after_hours_menu"
    assert [h.node for h in evening.heard][-2:] == ["lawyers_closed", "after_hours_menu"]
    assert evening.heard[-2].prompts[0].text.startswith("Lawyers are available")
    national_day = WalkStart(datetime(2026, 10, 1, 10, 0, tzinfo=SHANGHAI))
    assert walk(FLOW, national_day, ["1", "1"]).node == "after_hours_menu"


def test_digits_gather_until_terminator_and_timeouts_retry_then_exit() -> None:
    current = walk(FLOW, TUESDAY_10, ["1", "4"])
    assert current.node == "order_number" and current.max_digits == 14
    for key in "2026112300004":
        current = press(FLOW, TUESDAY_10, current, key)
    assert current.typed == "2026112300004" and current.node == "order_number"
    current = press(FLOW, TUESDAY_10, current, "2")
    assert current.waiting is not None and current.waiting.kind == "say_digits"
    assert current.waiting.digits == "20261123000042" and current.typed == ""
    current = press(FLOW, TUESDAY_10, current, "1")
    assert current.node == "order_lookup" and current.variables["order_no"] == "20261123000042"
    menu = walk(FLOW, TUESDAY_10, ["1"])
    for _ in range(3):
        menu = press(FLOW, TUESDAY_10, menu, TIMEOUT)
    outcomes = [s.outcome for s in menu.path if s.node == "main_menu"]
    assert outcomes == ["timeout", "timeout", "timeout_max_tries"]
    assert menu.node == "operator_queue"
    assert [p.id for p in menu.heard[-2].prompts] == ["no_key", "main_menu"]  # the retry


def test_the_walk_refuses_what_a_caller_or_adapter_could_not_send() -> None:
    menu = walk(FLOW, TUESDAY_10, ["1"])
    for bad in ("x", "12", "A"):
        with pytest.raises(WalkInputError):
            press(FLOW, TUESDAY_10, menu, bad)
    with pytest.raises(WalkInputError):
        choose(FLOW, TUESDAY_10, menu, "answered")  # nothing is handed off yet
    queue = walk(FLOW, TUESDAY_10, ["1", "2"])
    with pytest.raises(WalkInputError):
        press(FLOW, TUESDAY_10, queue, "1")
    with pytest.raises(WalkInputError):
        choose(FLOW, TUESDAY_10, queue, "found")
    with pytest.raises(WalkInputError):
        walk(FLOW, TUESDAY_10, ["1", "2", "nonsense"])
    with pytest.raises(WalkInputError):
        walk(FLOW, TUESDAY_10, ["1"] * 101)
    ended = choose(FLOW, TUESDAY_10, queue, "hangup")
    with pytest.raises(WalkInputError):
        press(FLOW, TUESDAY_10, ended, "1")


def test_the_walk_is_pure_replaying_gives_the_same_walk() -> None:
    keys = ["1", "9", "5"]
    assert walk(FLOW, TUESDAY_10, keys) == walk(FLOW, TUESDAY_10, keys)


# -- preview audio ---------------------------------------------------------------------------


def test_slin_becomes_an_8khz_mono_wav() -> None:
    import io
    import wave

    data = bytes(range(256)) * 32  # 4096 bytes = 2048 samples
    with wave.open(io.BytesIO(slin_to_wav(data))) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (8000, 1, 2)
        assert wav.readframes(wav.getnframes()) == data
