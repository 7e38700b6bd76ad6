"""The public web form and the dashboard in Debian's Chromium against a real uvicorn."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlmodel import Session, select

from backoffice import seed
from backoffice.app import create_app
from backoffice.db import upgrade
from backoffice.domain.lifecycle import Action
from backoffice.models import ActionRequest, Channel, OrgUnit, WorkOrder, WorkOrderCreate
from backoffice.services import work_orders
from backoffice.services.commands import command_for
from hotline.db import make_engine
from hotline.settings import load_settings
from hotline.sip.caller import free_port
from tests.conftest import eventually, need
from tests.integration.test_live_screens_e2e import ARGS, CHROMIUM

pytestmark = [pytest.mark.integration, pytest.mark.e2e]
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    base = tmp_path_factory.mktemp("apply-e2e")
    settings = load_settings(var_dir=base / "var", database_url=f"sqlite:///{base / 'bo.db'}")
    engine = make_engine(settings)
    upgrade(engine)
    with Session(engine) as session:
        seed.demo(session)
        _orders(session)
    port = free_port(socket.SOCK_STREAM)
    app = create_app(settings, engine=engine)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           timeout_graceful_shutdown=2))  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    assert eventually(lambda: server.started, 15)
    yield f"http://127.0.0.1:{port}", engine
    server.should_exit = True
    thread.join(10)
    engine.dispose()


def _orders(session: Session) -> None:
    """Three orders: one signed for by Shuangfeng, one dispatched, one still accepted."""
    operator, handler = seed_user(session, "operator"), seed_user(session, "handler")
    made = []
    for phone, category, summary in (
        ("13873801234", "wage_arrears", "工地拖欠三个月工资"),
        ("13787001234", "work_injury", "搬运时摔伤"),
        ("13873805678", "labor_contract", "未签劳动合同"),
    ):
        data = WorkOrderCreate(caller_phone=phone, category=category, summary=summary)
        made.append(work_orders.create(session, data, operator).order)
    county = session.exec(select(OrgUnit).where(OrgUnit.name == "双峰县总工会")).one().id
    for order in made[:2]:
        assert order.id is not None
        command, extras = command_for(Action.DISPATCH, ActionRequest(org_unit_id=county))
        work_orders.act(session, order.id, command, operator, extras=extras)
    assert made[0].id is not None
    command, extras = command_for(Action.SIGN, ActionRequest())
    work_orders.act(session, made[0].id, command, handler, extras=extras)


def seed_user(session: Session, username: str) -> Any:
    from backoffice.models import User

    return session.exec(select(User).where(User.username == username)).one()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    need(os.path.exists(CHROMIUM), "Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def test_a_worker_applies_online_and_gets_a_number(site: tuple[str, Any], browser: Any) -> None:
    web, engine = site
    page = browser.new_page(viewport={"width": 900, "height": 1100})
    page.goto(f"{web}/apply")
    page.fill("#name", "王五")
    page.fill("#phone", "12345")  # not a number anyone can be called back on
    page.fill("#employer", "双峰县宏达建筑有限公司")
    page.select_option("#org_unit_id", label="　双峰县总工会")
    page.select_option("#category", "wage_arrears")
    page.fill("#description", "在工地干了三个月，老板一直拖欠工资，共两万元。")
    page.check("#consent")
    page.click("#apply-submit")
    page.wait_for_selector("#err-phone")
    assert "请填写正确的电话号码" in page.inner_text("#err-phone")
    assert page.get_attribute("#phone", "aria-invalid") == "true"
    # What the worker typed is still there; only the number needs correcting.
    assert page.input_value("#name") == "王五"
    assert page.input_value("#description").startswith("在工地干了三个月")
    assert page.is_checked("#consent")
    page.screenshot(path=str(SHOTS / "apply.png"), full_page=True)
    page.fill("#phone", "0738-8251234")
    page.click("#apply-submit")
    page.wait_for_selector("#order-number")
    number = page.inner_text("#order-number")
    with Session(engine) as session:
        order = session.exec(select(WorkOrder).where(WorkOrder.number == number)).one()
    assert order.channel is Channel.WEB and order.caller_phone == "07388251234"
    assert order.employer_name == "双峰县宏达建筑有限公司" and order.caller_name == "王五"
    assert number[2:] in page.inner_text("main")  # the digits to type at the IVR
    page.close()


def test_the_dashboard_renders_for_a_supervisor(site: tuple[str, Any], browser: Any) -> None:
    web, _engine = site
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{web}/login")
    page.fill("input[name=username]", "supervisor")
    page.fill("input[name=password]", "demo-supervisor-12351")
    page.click("button[type=submit]:not(#lang-submit)")
    page.wait_for_url(lambda url: "/login" not in url)
    page.goto(f"{web}/dashboard")
    assert page.inner_text("h1") == "统计看板"
    today = int(page.inner_text("#fig-today .value"))
    assert today >= 3  # the three seeded orders, and the web application if it ran first
    assert page.inner_text("#total") == str(today)
    rows = page.locator("#by-status tbody tr").count()
    assert rows == 10
    assert page.inner_text("#by-status tr[data-status=accepted] .n") == str(today - 2)
    assert page.inner_text("#by-status tr[data-status=signed] .n") == "1"
    assert "小时" in page.inner_text("#fig-sign .value")  # the sign-for's time since dispatch
    assert page.locator("#by-category tr[data-category=work_injury] .n").inner_text() == "1"
    page.screenshot(path=str(SHOTS / "dashboard.png"), full_page=True)
    page.close()
