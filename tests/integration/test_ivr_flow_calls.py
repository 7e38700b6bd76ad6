"""The default flow walked by real SIPp callers through the real Asterisk (issue: flows as data)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlmodel import Session, select

from hotline.sip.caller import CallResult
from ivr import flowstore
from ivr.app import IvrService
from ivr.handoffs import CallbackRequest
from ivr.publishing import packaged_flow_text, publish_flow
from tests.integration.calls import Dialer, acd_events, nodes, steps

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

WORKDAY_OPEN = "2026-11-24T10:00:00+08:00"  # a Tuesday morning: lawyers on duty
WORKDAY_EVENING = "2026-11-24T20:00:00+08:00"
NATIONAL_DAY = "2026-10-01T10:00:00+08:00"  # a Thursday, but a public holiday
ORDER_NO = "20261123000042"


def _parallel(calls: dict[str, Callable[[], CallResult]]) -> dict[str, CallResult]:
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = {name: pool.submit(fn) for name, fn in calls.items()}
        return {name: f.result() for name, f in futures.items()}


def test_each_main_menu_choice_reaches_its_destination(dialer: Dialer, ivr_clock: Any) -> None:
    order_waits = (dialer.after_welcome_ms(), 1200, *([300] * len(ORDER_NO)), 300, 700)
    calls: dict[str, Callable[[], CallResult]] = {
        "legal": lambda: dialer.call("11"),
        "wage": lambda: dialer.call("12", dtmf="rfc2833"),
        "injury": lambda: dialer.call("13"),
        "other": lambda: dialer.call("15", dtmf="rfc2833"),
        "operator": lambda: dialer.call("10"),
        "order": lambda: dialer.call("14" + ORDER_NO + "#1", waits_ms=order_waits, hold_ms=4000),
        "english": lambda: dialer.call("22", dtmf="rfc2833"),
    }
    with ivr_clock(WORKDAY_OPEN):
        results = _parallel(calls)
    for name, result in results.items():
        assert result.outcome == "completed", f"{name}: {result.detail}"
    assert nodes(results["legal"])[-2:] == ["legal_hours", "legal_queue"]
    assert ("legal_hours", None, "open") in steps(results["legal"])
    assert nodes(results["wage"])[-1] == "wage_arrears_queue"
    assert nodes(results["injury"])[-1] == "work_injury_queue"
    assert nodes(results["other"])[-1] == "operator_queue"
    assert ("main_menu", "0", "operator") in steps(results["operator"])
    assert nodes(results["operator"])[-1] == "operator_queue"
    english = results["english"].record
    assert english is not None and english["language"] == "en"
    assert nodes(results["english"])[-1] == "wage_arrears_queue"
    order = steps(results["order"])
    collected = [s for s in order if s[0] == "order_number"]
    assert any(s[1] == ORDER_NO for s in collected), order
    assert ("order_number", "1", "confirmed") in order
    # No such order: the caller hears so and gets the after-order menu, not a queue.
    assert ("order_lookup", None, "not_found") in order
    assert "order_not_found" in nodes(results["order"])
    # Nobody is ready in this test: each caller waits in the ACD's queue until hanging up,
    # except the order lookup, which never queues.
    for name, result in results.items():
        assert result.record is not None
        events = acd_events(dialer.ivr, result.record["uniqueid"])
        if name == "order":
            assert events == []
        else:
            assert events == ["enqueue", "abandon"], (name, events)


def test_invalid_then_timeout_then_exit_goes_to_an_operator(dialer: Dialer) -> None:
    menu = dialer.prompt_ms("main_menu")
    waits = (
        dialer.after_welcome_ms(),
        1200,  # '9' while the main menu plays: invalid
        dialer.prompt_ms("invalid_key") + menu + 5000 + dialer.prompt_ms("no_key") + 1500,
    )
    result = dialer.call("198", waits_ms=waits, hold_ms=3000)
    assert result.outcome == "completed", result.detail
    outcomes = [(i, o) for n, i, o in steps(result) if n == "main_menu"]
    assert outcomes[0] == ("9", "invalid")
    assert outcomes[1][1] == "timeout"
    assert outcomes[2][0] == "8" and outcomes[2][1].endswith("max_tries")
    assert nodes(result)[-1] == "operator_queue"


def test_after_hours_legal_call_books_a_lawyer_callback(
    dialer: Dialer, ivr_clock: Any, ivr_service: IvrService
) -> None:
    waits = (dialer.after_welcome_ms(), 1200, dialer.prompt_ms("lawyer_hours") + 2000)
    with ivr_clock(WORKDAY_EVENING):
        result = dialer.call("112", waits_ms=waits, hold_ms=8000, caller="13912345678")
    path = steps(result)
    assert ("legal_hours", None, "closed") in path
    assert ("after_hours_menu", "2", "choice") in path
    assert nodes(result)[-1] == "end_callback_booked"
    assert result.record is not None and result.record["result"] == "callback_booked"
    with Session(ivr_service.engine) as session:
        booked = session.exec(
            select(CallbackRequest).where(CallbackRequest.uniqueid == result.record["uniqueid"])
        ).one()
    assert booked.caller == "13912345678" and booked.queue == "legal"


def test_national_day_closes_the_lawyers_line(dialer: Dialer, ivr_clock: Any) -> None:
    with ivr_clock(NATIONAL_DAY):
        result = dialer.call("11", hold_ms=2000)
    assert ("legal_hours", None, "closed") in steps(result)
    assert "legal_queue" not in nodes(result)


def test_two_hundred_digits_at_the_order_number_prompt(dialer: Dialer) -> None:
    waits = (dialer.after_welcome_ms(), 1200, *([40] * 200))
    # RFC 2833: 200 SIP INFO requests would not fit in one SIPp scenario file (64 KB).
    result = dialer.call("14" + "7" * 200, waits_ms=waits, hold_ms=6000, dtmf="rfc2833")
    assert result.outcome == "completed", result.detail
    assert result.record is not None
    collected = [s for s in steps(result) if s[0] == "order_number"]
    assert collected, "the call never reached the order-number prompt"
    # 14 digits at most are taken; the rest is ignored or refused, never a crash.
    assert all(len(s[1] or "") <= 14 for s in collected)


def test_new_version_serves_new_calls_while_running_calls_finish_on_the_old(
    dialer: Dialer, ivr_service: IvrService
) -> None:
    engine, recordings = ivr_service.engine, dialer.settings.recordings_dir
    old = flowstore.active(engine, "default")
    assert old is not None
    # Version 2 swaps keys 2 and 5 of the main menu.
    changed = (
        packaged_flow_text()
        .replace("      2: topic_wage_arrears\n", "      2: topic_otherX\n")
        .replace("      5: topic_other\n", "      5: topic_wage_arrears\n")
        .replace("topic_otherX", "topic_other")
    )
    assert changed != packaged_flow_text()
    running: dict[str, CallResult] = {}
    # The running call presses '2' well after the publish below.
    waits = (dialer.after_welcome_ms(), 6000)
    early = threading.Thread(
        target=lambda: running.setdefault("r", dialer.call("12", waits_ms=waits))
    )
    early.start()
    time.sleep(dialer.after_welcome_ms() / 1000 + 1.5)
    new = publish_flow(engine, recordings, changed, by="test")
    try:
        time.sleep(1.0)  # the flow cache looks for a new version every 500 ms
        fresh = dialer.call("12")
        early.join()
    finally:
        flowstore.activate(engine, "default", old.version)
    old_call = running["r"].record
    assert old_call is not None and old_call["flow"]["version"] == old.version
    assert nodes(running["r"])[-1] == "wage_arrears_queue"
    assert fresh.record is not None and fresh.record["flow"]["version"] == new.version
    assert nodes(fresh)[-1] == "operator_queue"
    assert ("topic_other", None, "set") in steps(fresh)
