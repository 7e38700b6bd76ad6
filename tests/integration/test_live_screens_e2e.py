"""The agent desk and the wallboard in Debian's Chromium against the running test hotline:
real uvicorn, Redis, Asterisk, SIPp callers and seats."""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlmodel import Session, select

from acd import seats
from acd.desk import SeatDesk
from acd.model import AgentState, Role
from backoffice import seed
from backoffice.app import create_app
from backoffice.db import upgrade
from backoffice.live.board import DESK_PREFIX
from backoffice.models import WorkOrder
from hotline.pbx.runner import Pbx
from hotline.secrets import load_credentials
from hotline.settings import Settings
from hotline.sip.caller import free_port
from ivr.app import IvrService
from ivr.handoffs import CallbackRequest
from tests.conftest import eventually, need
from tests.integration.calls import Dialer
from tests.integration.test_acd_calls import Softphone, presence, softphones  # noqa: F401

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SUPERVISOR_PHONE = "9001"
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture(scope="module")
def web(stack_settings: Settings, ivr_service: IvrService, asterisk: Pbx) -> Iterator[str]:
    engine = ivr_service.engine
    for key in ivr_service.acd.client.scan_iter(match=f"{DESK_PREFIX}*"):
        ivr_service.acd.client.delete(key)  # seat choices left by an earlier run
    upgrade(engine)
    with Session(engine) as session:
        seed.demo(session)
    row = seats.save_seat(engine, SUPERVISOR_PHONE, Role.SUPERVISOR, {"operator": 1})
    seats.mirror(ivr_service.acd, [row])
    asterisk.creds = load_credentials(stack_settings.var_dir, (SUPERVISOR_PHONE,))
    asterisk.reload("res_pjsip.so")
    port = free_port(__import__("socket").SOCK_STREAM)
    app = create_app(stack_settings, engine=engine)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           timeout_graceful_shutdown=2))  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    assert eventually(lambda: server.started, 15)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    need(os.path.exists(CHROMIUM), "Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def signed_in(browser: Any, web: str, user: str) -> Any:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{web}/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", f"demo-{user}-12351")
    page.click("button[type=submit]:not(#lang-submit)")
    page.wait_for_url(lambda url: "/login" not in url)
    return page


@pytest.fixture
def idle_seats(ivr_service: IvrService) -> Iterator[SeatDesk]:
    desk = SeatDesk(ivr_service.acd)
    for seat, _, _ in seats.DEMO_SEATS:
        desk.logout(seat)
    yield desk
    for seat, _, _ in seats.DEMO_SEATS:
        agent = ivr_service.acd.get_agent(seat)
        if agent is not None and agent.state not in (AgentState.RINGING, AgentState.ON_CALL):
            desk.logout(seat)


def registered(ivr: IvrService, seat: str) -> bool:
    agent = ivr.acd.get_agent(seat)
    return bool(agent and agent.registered)


def in_background(call: Callable[[], Any]) -> threading.Thread:
    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    return thread


def test_agent_goes_ready_and_the_screen_pop_shows_the_ivr_path(
    web: str, browser: Any, dialer: Dialer, ivr_service: IvrService,
    presence: Any, softphones: Callable[..., Softphone], idle_seats: SeatDesk,  # noqa: F811
) -> None:  # fmt: skip
    softphones("1003")
    assert eventually(lambda: registered(ivr_service, "1003"), 15)
    page = signed_in(browser, web, "operator")
    page.goto(f"{web}/desk")
    page.fill("#seat", "1003")
    page.click("#seat-form button")
    page.click("#go-ready")
    page.wait_for_selector(".seat-state[data-state=available]", timeout=10_000)
    assert ivr_service.acd.get_agent("1003").state is AgentState.AVAILABLE  # type: ignore[union-attr]
    call = in_background(lambda: dialer.call("12", hold_ms=8000))  # Mandarin, wage arrears
    page.wait_for_selector(".screen-pop", timeout=60_000)
    path = page.inner_text("#pop-path")
    assert "main_menu" in path and "wage_arrears" in path, path
    assert page.inner_text("#pop-caller") == "13800138000"
    page.wait_for_selector(".seat-state[data-state=on_call]", timeout=20_000)
    # The work order, pre-filled from the IVR, saved during the call and corrected after.
    assert page.input_value("#order-form select[name=category]") == "wage_arrears"
    page.fill("#order-form input[name=employer_name]", "娄底市某建筑公司")
    for summary in ("三个月工资未发", "三个月工资未发，共两万元"):
        page.fill("#order-form textarea[name=summary]", summary)
        with page.expect_response(f"{web}/desk/order") as saved:
            page.click("#save-order")
        assert saved.value.status == 200, saved.value.text()
    page.wait_for_selector(".order-saved", timeout=10_000)
    call_id = page.get_attribute(".screen-pop", "data-call")
    with Session(ivr_service.engine) as session:
        order = session.exec(select(WorkOrder).where(WorkOrder.call_id == call_id)).one()
    assert order.caller_phone == "13800138000" and order.employer_name == "娄底市某建筑公司"
    assert order.summary == "三个月工资未发，共两万元" and order.category == "wage_arrears"
    page.screenshot(path=str(SHOTS / "desk.png"), full_page=True)
    call.join(90)
    page.close()


def test_supervisor_sees_waiting_rise_and_fall_and_listens_to_a_live_call(
    web: str, browser: Any, dialer: Dialer, ivr_service: IvrService, asterisk: Pbx,
    presence: Any, softphones: Callable[..., Softphone], idle_seats: SeatDesk,  # noqa: F811
) -> None:  # fmt: skip
    page = signed_in(browser, web, "supervisor")
    page.goto(f"{web}/wallboard")
    page.fill("#phone", SUPERVISOR_PHONE)
    page.click("#phone-form button")
    waiting = "#queues tr[data-queue=work_injury] .waiting"
    call = in_background(lambda: dialer.call("13", hold_ms=9000))  # work injury, nobody ready
    page.wait_for_selector(f"{waiting}:text-is('1')", timeout=60_000)
    call.join(90)
    page.wait_for_selector(f"{waiting}:text-is('0')", timeout=20_000)

    softphones("1003")
    softphones(SUPERVISOR_PHONE)
    assert eventually(lambda: registered(ivr_service, "1003"), 15)
    idle_seats.ready("1003")
    talk = in_background(lambda: dialer.call("12", hold_ms=25_000))
    page.wait_for_selector("#calls .spy-listen", timeout=60_000)
    page.screenshot(path=str(SHOTS / "wallboard.png"), full_page=True)
    page.click("#calls .spy-listen")

    def spying() -> bool:
        return "ChanSpy" in asterisk.rx("core show channels verbose").stdout

    assert eventually(spying, 20), asterisk.rx("core show channels verbose").stdout
    talk.join(90)
    page.close()


def test_an_agent_cannot_open_the_wallboard_or_admin_pages(web: str, browser: Any) -> None:
    page = signed_in(browser, web, "operator")
    assert page.goto(f"{web}/wallboard").status == 403
    # A lawyer's seat is not an operator's, and a seat that does not exist is nobody's.
    for seat in ("2001", "7777", "1001&x"):
        page.goto(f"{web}/desk")
        page.fill("#seat", seat)
        with page.expect_response(f"{web}/desk/seat") as answer:
            page.click("#seat-form button")
        assert answer.value.status == 422, seat
    assert page.goto(f"{web}/wallboard/events").status == 403
    page.close()
    anonymous = browser.new_page()
    anonymous.goto(f"{web}/desk")
    assert "/login" in anonymous.url
    anonymous.close()


def test_click_to_call_rings_the_agent_then_dials_the_caller_through_the_carrier(
    web: str, browser: Any, ivr_service: IvrService, asterisk: Pbx, stack_settings: Settings,
    presence: Any, softphones: Callable[..., Softphone], idle_seats: SeatDesk,  # noqa: F811
) -> None:  # fmt: skip
    host, port = stack_settings.carrier_address.split(":")
    carrier = subprocess.Popen(
        ["sipp", "-sn", "uas", "-p", port, "-i", host, "-nostdin", "-m", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        with Session(ivr_service.engine) as session:
            session.add(CallbackRequest(uniqueid="cb-test.1", caller="13900139000"))
            session.commit()
        softphones("1003")
        assert eventually(lambda: registered(ivr_service, "1003"), 15)
        page = signed_in(browser, web, "operator")
        page.goto(f"{web}/desk")
        page.fill("#seat", "1003")
        page.click("#seat-form button")
        row = page.locator("#callbacks tr", has_text="13900139000")
        row.locator(".call-back").click()

        def dialled() -> bool:
            channels = asterisk.rx("core show channels verbose").stdout
            return "PJSIP/trunk-" in channels and "PJSIP/1003-" in channels

        assert eventually(dialled, 30), asterisk.rx("core show channels verbose").stdout
        page.close()
    finally:
        carrier.terminate()
        carrier.wait(10)
