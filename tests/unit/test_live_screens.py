"""Pure parts of the live screens: wallboard alerts, screen-pop assembly, Originate fields."""

from __future__ import annotations

from typing import Any

import pytest

from backoffice.domain.lifecycle import Role
from backoffice.live.alerts import Alert, alerts
from backoffice.live.screenpop import assemble
from hotline.callevents.live import LiveCall, live_call_from
from hotline.pbx.originate import BadTarget, SpyMode, callback_fields, spy_fields

pytestmark = pytest.mark.unit


def queue(name: str, waiting: int, longest: float, level: float | None) -> dict[str, Any]:
    return {"queue": name, "waiting": waiting, "longest_wait_s": longest,
            "service_level": {"15": level, "20": level}}  # fmt: skip


def test_alerts_for_low_service_level_and_a_long_wait() -> None:
    found = alerts([queue("operator", 2, 31.0, 0.5), queue("legal", 0, 0.0, 0.9)])
    assert found == [
        Alert("service_level", "operator", 0.5, 0.8),
        Alert("long_wait", "operator", 31.0, 15.0),
    ]


def test_no_alert_at_target_without_figures_or_within_the_wait() -> None:
    assert alerts([queue("operator", 1, 15.0, 0.8), queue("legal", 0, 40.0, None)]) == []


CALL = LiveCall("1700.1", "13873801234", "zh",
                [{"node": "main_menu", "input": "2", "outcome": "wage_arrears"}],
                {"topic": "wage_arrears", "speech_text": "老板拖欠三个月工资"})  # fmt: skip


def test_screen_pop_shows_the_number_to_an_operator_and_masks_it_for_a_viewer() -> None:
    pop = assemble(CALL, Role.OPERATOR, "湖南省娄底市", [])
    assert pop.caller == "13873801234" and pop.region == "湖南省娄底市"
    assert pop.path[0]["node"] == "main_menu" and pop.topic == "wage_arrears"
    assert pop.spoken_problem == "老板拖欠三个月工资" and pop.spoken_category == ""
    assert assemble(CALL, Role.VIEWER, "", []).caller == "138****1234"


def test_live_call_round_trips_and_refuses_foreign_values() -> None:
    assert live_call_from(CALL.as_json()) == CALL
    for junk in ("", "[]", "{}", '{"call_id": "x", "path": 3}', "not json"):
        assert live_call_from(junk) is None, junk


def test_spy_fields_per_mode_and_refused_targets() -> None:
    fields = spy_fields("9001", "1001", SpyMode.WHISPER)
    assert fields["Channel"] == "PJSIP/9001" and fields["Application"] == "ChanSpy"
    assert fields["Data"] == "PJSIP/1001-,qEw"
    assert spy_fields("9001", "1001", SpyMode.LISTEN)["Data"].endswith(",qE")
    assert spy_fields("9001", "1001", SpyMode.BARGE)["Data"].endswith(",qEB")
    for bad in ("1001&PJSIP/x", "1", "10 01", "1001,b"):
        with pytest.raises(BadTarget):
            spy_fields("9001", bad, SpyMode.LISTEN)


def test_callback_dials_only_digits() -> None:
    fields = callback_fields("1001", "+8613873801234", "12351")
    assert fields["Exten"] == "8613873801234" and fields["Context"] == "hotline-callback"
    with pytest.raises(BadTarget):
        callback_fields("1001", "138;Hangup", "12351")
