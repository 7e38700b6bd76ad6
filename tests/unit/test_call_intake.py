"""A finished call's facts -> category, urgency and summary of its work order (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from backoffice.domain.call_intake import category_of, intake
from backoffice.domain.deadlines import Category

pytestmark = pytest.mark.unit

ANSWERED: dict[str, Any] = {
    "caller": "13800001234", "variables": {"topic": "wage_arrears"}, "queue": "wage_arrears",
    "answered": True, "agent": "1003", "wait_s": 12.4, "talk_s": 95.0, "result": "done",
}  # fmt: skip


def test_an_answered_wage_arrears_call() -> None:
    taken = intake("1.1", ANSWERED)
    assert taken.category is Category.WAGE_ARREARS and taken.reached_person
    assert taken.summary == "来电：欠薪求助；排队12秒；坐席1003接听，通话95秒"
    assert taken.as_call_event()["caller"] == "13800001234"


@pytest.mark.parametrize(
    "data,expected",
    [
        ({"variables": {"speech_category": "work_injury", "topic": "other"}}, Category.WORK_INJURY),
        ({"variables": {"topic": "legal"}}, Category.LEGAL_CONSULTATION),
        ({"queue": "work_injury"}, Category.WORK_INJURY),
        ({"variables": {"topic": "nonsense"}, "queue": "operator"}, Category.OTHER),
        ({"variables": ["not", "a", "mapping"]}, Category.OTHER),
        ({}, Category.OTHER),
    ],
)
def test_category_prefers_the_callers_words_then_the_menu_then_the_queue(
    data: dict[str, Any], expected: Category
) -> None:
    assert category_of(data) is expected


def test_a_caller_who_hung_up_in_the_menu_is_still_an_order() -> None:
    taken = intake("1.2", {"result": "hangup", "ivr_path": [{"node": "welcome"}]})
    assert taken.category is Category.OTHER and not taken.reached_person
    assert taken.summary == "来电：其他；来电人在语音菜单中挂机"


def test_abandon_message_and_callback_are_said() -> None:
    data = {"variables": {"topic": "work_injury"}, "wait_s": 61, "abandoned": True}
    assert intake("1.3", data).summary == "来电：工伤咨询；排队61秒；来电人排队时挂机"
    left = {"message": "/r/m.wav", "callback_requested": True, "result": "done"}
    assert intake("1.4", left).summary == "来电：其他；已留言；要求回电"


def test_the_callers_spoken_problem_is_in_the_summary() -> None:
    data = {"variables": {"speech_category": "wage_arrears", "speech_text": "老板两个月没发工资"}}
    assert intake("1.5", data).summary.endswith("来电人陈述：老板两个月没发工资")


def test_hostile_event_data_is_made_harmless() -> None:
    data = {"caller": "<script>\x00" + "9" * 500, "agent": {"x": 1}, "answered": True,
            "wait_s": "long", "transfers": ["junk", {"to": "2001\r\nX"}]}  # fmt: skip
    taken = intake("1.6", data)
    assert len(taken.caller) <= 64 and "\x00" not in taken.caller
    assert "\r" not in taken.summary and "转2001X" in taken.summary
