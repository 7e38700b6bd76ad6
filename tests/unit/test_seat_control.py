"""Pure parts of seat control: reason digits, the feature-code dialplan and SIPp scenario."""

from __future__ import annotations

import pytest

from acd.desk import PAUSE_REASONS, BadReason, checked_reason, reason_for_digit
from hotline.sip.seat import feature_code_scenario
from tests.unit.test_asterisk_render import context

pytestmark = pytest.mark.unit


def test_reason_digits_name_the_reasons_in_order() -> None:
    assert reason_for_digit("") == "break"
    assert [reason_for_digit(str(n)) for n in range(1, 6)] == list(PAUSE_REASONS)


@pytest.mark.parametrize("digit", ["0", "6", "9", "12", "x", "*"])
def test_other_digits_are_refused_with_the_range(digit: str) -> None:
    with pytest.raises(BadReason, match="1-5"):
        reason_for_digit(digit)


def test_reasons_are_checked_by_name() -> None:
    assert checked_reason("meal") == "meal"
    with pytest.raises(BadReason, match="break, meal, meeting, training, paperwork"):
        checked_reason("Meal")


def test_the_seats_context_runs_the_seat_control_route_for_each_code() -> None:
    from asterisk_conf import render_config

    dialplan = render_config(context())["extensions.conf"]
    seats = dialplan.split("[hotline-seats]")[1].split("[hotline-seat-control]")[0]
    assert "exten => *11,1,Gosub(hotline-seat-control,s,1(login,))" in seats
    assert "exten => *132,1,Gosub(hotline-seat-control,s,1(pause,2))" in seats
    assert "exten => *14,1,Gosub(hotline-seat-control,s,1(ready,))" in seats
    assert "${EXTEN" not in seats  # no dialled digits reach an application
    control = dialplan.split("[hotline-seat-control]")[1].split("[")[0]
    assert "/seat-control,${ARG1},${FILTER(0123456789,${CHANNEL(endpoint)})},${ARG2})" in control


def test_the_feature_code_scenario_authenticates_and_refuses_odd_input() -> None:
    xml = feature_code_scenario("1091", "abc123", "*132")
    assert "INVITE sip:*132@" in xml and "[authentication username=1091 password=abc123]" in xml
    with pytest.raises(ValueError):
        feature_code_scenario("1091", "abc123", "*1]]>")
    with pytest.raises(ValueError):
        feature_code_scenario("10 91", "abc123", "*14")
