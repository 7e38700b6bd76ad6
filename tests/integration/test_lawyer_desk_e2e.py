"""The desk's "bring in a lawyer" button in Debian's Chromium, on a real call: the operator
consults a lawyer from the screen pop, then makes it a three-way conference."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from acd.desk import SeatDesk
from hotline.pbx.runner import Pbx
from hotline.sip.seat import answering_scenario
from ivr.app import IvrService
from tests.conftest import eventually
from tests.integration.calls import Dialer
from tests.integration.test_lawyer_calls import (  # noqa: F401
    LAWYER,
    OPERATOR,
    Phone,
    call_in,
    caller_uniqueid,
    conference_members,
    lawyer_seats,
    phones,
    transfers,
)
from tests.integration.test_live_screens_e2e import browser, signed_in, web  # noqa: F401

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


def test_the_desk_button_consults_a_lawyer_then_joins_all_three(
    web: str, browser: Any, asterisk: Pbx, dialer: Dialer, ivr_service: IvrService,  # noqa: F811
    lawyer_seats: Any, phones: Callable[..., Phone],  # noqa: F811
) -> None:  # fmt: skip
    phones(OPERATOR, answering_scenario(ring_ms=300))
    phones(LAWYER, answering_scenario(ring_ms=500))
    SeatDesk(ivr_service.acd).ready(LAWYER)
    page = signed_in(browser, web, "operator")
    page.goto(f"{web}/desk")
    page.fill("#seat", OPERATOR)
    page.click("#seat-form button")
    page.click("#go-ready")
    page.wait_for_selector(".seat-state[data-state=available]", timeout=10_000)
    thread, _ = call_in(dialer, hold_ms=25_000)
    call_id = caller_uniqueid(ivr_service)
    page.wait_for_selector("#lawyer-consult", timeout=30_000)
    assert page.get_attribute(".screen-pop", "data-call") == call_id
    with page.expect_response(f"{web}/desk/lawyer") as answer:
        page.click("#lawyer-consult")
    assert answer.value.status == 200, answer.value.text()
    page.wait_for_selector(".lawyer-result", timeout=10_000)
    assert LAWYER in page.inner_text(".lawyer-result")
    assert eventually(lambda: len(conference_members(asterisk, f"{call_id}c")) == 2, 15)
    with page.expect_response(f"{web}/desk/lawyer") as answer:
        page.click("#lawyer-conference")
    assert answer.value.status == 200, answer.value.text()
    assert eventually(lambda: len(conference_members(asterisk, call_id)) == 3, 15)
    assert [t["mode"] for t in transfers(ivr_service, call_id)] == ["consult", "conference"]
    thread.join(60)
    page.close()
