"""The work-order pages in Debian's Chromium against a real uvicorn back office (SQLite):
login, the list and its filters, one order through dispatch → sign → reply → return visit →
close by the people whose job each step is, the access rules, masking and an inline error."""

from __future__ import annotations

import os
import threading
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlmodel import Session, select

from backoffice import seed
from backoffice.app import create_app
from backoffice.db import upgrade
from backoffice.domain import lifecycle as lc
from backoffice.domain.lifecycle import Role
from backoffice.models import (
    AuditAction,
    AuditLog,
    OrgUnit,
    User,
    WorkOrder,
    WorkOrderCreate,
    utcnow,
)
from backoffice.passwords import hash_password
from backoffice.services import work_orders as orders
from hotline.db import make_engine
from hotline.settings import load_settings
from hotline.sip.caller import free_port
from tests.conftest import eventually, need

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
CALLER = "13873801234"
NEIGHBOUR = ("xinhua", "新化县承办人", "demo-xinhua-12351")


@dataclass(frozen=True)
class Site:
    url: str
    engine: Any
    recordings: Path


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    base = tmp_path_factory.mktemp("order-pages")
    settings = load_settings(var_dir=base / "var", recordings_dir=base / "recordings",
                             database_url=f"sqlite:///{base / 'backoffice.db'}")  # fmt: skip
    engine = make_engine(settings)
    upgrade(engine)
    with Session(engine) as session:
        seed.demo(session)
        xinhua = session.exec(select(OrgUnit).where(OrgUnit.name == "新化县总工会")).one()
        name, display, password = NEIGHBOUR
        assert xinhua.id is not None
        session.add(User(username=name, display_name=display, role=Role.HANDLER,
                         org_unit_id=xinhua.id, password_hash=hash_password(password)))  # fmt: skip
        session.commit()
    port = free_port(__import__("socket").SOCK_STREAM)
    app = create_app(settings, engine=engine)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           timeout_graceful_shutdown=2))  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    assert eventually(lambda: server.started, 15)
    yield Site(f"http://127.0.0.1:{port}", engine, settings.recordings_dir)
    server.should_exit = True
    thread.join(10)
    engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    need(os.path.exists(CHROMIUM), "Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def signed_in(browser: Any, site: Site, username: str, password: str = "") -> Any:
    page = browser.new_page(viewport={"width": 1360, "height": 1000})
    page.goto(f"{site.url}/orders")
    assert "/login" in page.url  # the list needs a session
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password or f"demo-{username}-12351")
    page.click("button[type=submit]:not(#lang-submit)")
    page.wait_for_url(lambda url: "/login" not in url)
    return page


def taken(site: Site, **fields: Any) -> WorkOrder:
    with Session(site.engine, expire_on_commit=False) as session:
        operator = session.exec(select(User).where(User.username == "operator")).one()
        urgent, now = fields.pop("urgent", False), fields.pop("now", None)
        body = {"caller_phone": CALLER, "category": "wage_arrears", **fields, "urgent": urgent}
        order = orders.create(session, WorkOrderCreate.model_validate(body), operator, now=now)
        return order.order


def dispatched(site: Site, order: WorkOrder, unit: str, now: Any = None) -> None:
    with Session(site.engine) as session:
        operator = session.exec(select(User).where(User.username == "operator")).one()
        target = session.exec(select(OrgUnit).where(OrgUnit.name == unit)).one()
        assert order.id is not None and target.id is not None
        orders.act(session, order.id, lc.Dispatch(target.id), operator, now=now)


def status_of(site: Site, order: WorkOrder) -> str:
    with Session(site.engine) as session:
        found = session.get(WorkOrder, order.id)
        assert found is not None
        return found.status.value


def test_a_wage_claim_goes_from_dispatch_to_close_through_the_forms(
    site: Site, browser: Any
) -> None:
    past = utcnow() - timedelta(days=9)
    late = taken(site, summary="工地欠薪，已超期", employer_name="涟源某矿业", now=past)
    dispatched(site, late, "涟源市总工会", now=past)
    rush = taken(site, summary="欠薪讨薪，当事人情绪激动", urgent=True, category="work_injury")
    dispatched(site, rush, "冷水江市总工会")
    order = taken(site, summary="双峰某建筑公司拖欠三个月工资", employer_name="双峰某建筑公司")
    operator = signed_in(browser, site, "operator")
    # The list: urgent first; filter to what is still accepted.
    rows = operator.locator("#orders tbody tr")
    assert rows.first.get_attribute("data-number") == rush.number
    # Nine days on, both the sign-for and the reply deadline have passed: two red cells.
    assert operator.locator(f"tr[data-number='{late.number}'] td.due-cell-overdue").count() == 2
    assert operator.locator(f"tr[data-number='{rush.number}'] td.due-cell-due_soon").count() == 1
    SHOTS.mkdir(parents=True, exist_ok=True)
    operator.screenshot(path=str(SHOTS / "orders-list.png"), full_page=True)
    operator.select_option("#f-status", "accepted")
    operator.click("#f-apply")
    operator.wait_for_url(lambda url: "status=accepted" in url)
    assert [r.get_attribute("data-number") for r in rows.all()] == [order.number]

    # The provincial operator dispatches to Shuangfeng county.
    operator.click(f"a:text('{order.number}')")
    operator.select_option("#dispatch-org_unit_id", label="双峰县总工会")
    operator.fill("#dispatch-note", "请核实并联系企业")
    operator.click("#do-dispatch")
    operator.wait_for_selector("#order-status:text('已派单')")
    assert status_of(site, order) == "dispatched"

    # The county handler signs for it, gets a bad amount pointed out, and replies.
    handler = signed_in(browser, site, "handler")
    handler.goto(f"{site.url}/orders/{order.id}")
    handler.click("#do-sign")
    handler.wait_for_selector("#order-status:text('已签收')")
    handler.fill("#reply-text", "已约谈企业，企业同意支付拖欠工资")
    handler.select_option("#reply-outcome", "wages_recovered")
    handler.fill("#reply-wages_recovered", "三万")
    handler.click("#do-reply")
    error = handler.wait_for_selector("#err-reply-wages_recovered")
    assert "金额" in error.inner_text()
    assert handler.input_value("#reply-text") == "已约谈企业，企业同意支付拖欠工资"
    assert handler.input_value("#reply-outcome") == "wages_recovered"
    assert status_of(site, order) == "signed"
    handler.fill("#reply-wages_recovered", "36000")
    handler.click("#do-reply")
    handler.wait_for_selector("#order-status:text('已答复')")

    # The operator makes the return visit (the caller does not answer) and closes the order.
    operator.goto(f"{site.url}/orders/{order.id}")
    operator.screenshot(path=str(SHOTS / "orders-detail.png"), full_page=True)
    operator.select_option("#return_visit-satisfaction", "none")
    operator.fill("#return_visit-note", "两次回访未接通")
    operator.click("#do-return_visit")
    operator.wait_for_selector("#order-status:text('待回访')")
    operator.fill("#close-note", "答复已送达，来电人未再反映，按规定办结")
    operator.click("#do-close")
    operator.wait_for_selector("#order-status:text('已办结')")
    assert status_of(site, order) == "closed"
    steps = operator.locator("#events li").evaluate_all("els => els.map(e => e.dataset.action)")
    assert steps == ["create", "dispatch", "sign", "reply", "return_visit", "close"]
    timeline = operator.inner_text("#events")
    assert "双峰县承办人" in timeline and "两次回访未接通" in timeline
    assert operator.inner_text("#wages") == "36000.00 元"
    assert operator.inner_text("#satisfaction") == "—"

    # Next door's handler cannot open it; the viewer sees the number masked.
    neighbour = signed_in(browser, site, NEIGHBOUR[0], NEIGHBOUR[2])
    response = neighbour.goto(f"{site.url}/orders/{order.id}")
    assert response is not None and response.status == 404
    assert order.number not in neighbour.content()
    viewer = signed_in(browser, site, "viewer")
    viewer.goto(f"{site.url}/orders/{order.id}")
    assert viewer.inner_text("#caller-phone") == "138****1234"
    viewer.goto(f"{site.url}/orders")
    assert CALLER not in viewer.content() and "138****1234" in viewer.content()
    for page in (operator, handler, neighbour, viewer):
        page.close()


def test_the_player_streams_the_recording_and_each_listen_is_audited(
    site: Site, browser: Any
) -> None:
    order = taken(site, summary="来电录音", call_id="1733150000.7")
    calls = site.recordings / "calls"
    calls.mkdir(parents=True, exist_ok=True)
    with wave.open(str(calls / "1733150000.7.wav"), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x10" * 16000)  # two seconds
    operator = signed_in(browser, site, "operator")
    operator.goto(f"{site.url}/orders/{order.id}")
    duration = operator.evaluate(
        """() => new Promise((done, fail) => {
            const a = document.querySelector('#audio-mixed');
            a.addEventListener('loadedmetadata', () => done(a.duration));
            a.addEventListener('error', () => fail(String(a.error && a.error.code)));
            a.preload = 'metadata'; a.load();
        })"""
    )
    assert abs(duration - 2.0) < 0.05
    with Session(site.engine) as session:
        query = select(AuditLog).where(AuditLog.action == AuditAction.VIEW_RECORDING)
        entries = [e for e in session.exec(query).all() if e.object_id == str(order.id)]
    assert entries and all(e.data["number"] == order.number for e in entries)
    dispatched(site, order, "双峰县总工会")
    handler = signed_in(browser, site, "handler")
    handler.goto(f"{site.url}/orders/{order.id}")
    assert handler.locator("audio").count() == 0
    assert handler.locator("#no-recording-role").count() == 1
    response = handler.goto(f"{site.url}/orders/{order.id}/recording/mixed")
    assert response is not None and response.status == 403
    operator.close()
    handler.close()
