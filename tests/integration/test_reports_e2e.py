"""The reports page in Debian's Chromium: real uvicorn, the back office's SQLite database, call
figures taken in through the order intake from `ended` events as the IVR writes them."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlmodel import Session

from backoffice import seed
from backoffice.app import create_app
from backoffice.db import upgrade
from backoffice.intake import OrderIntake
from backoffice.services.work_orders import WorkOrderConfig
from hotline.callevents.model import CallEvent, CallEventType, CallFacts
from hotline.db import make_engine
from hotline.settings import load_settings
from hotline.sip.caller import free_port
from tests.conftest import eventually, need

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
FIRST, LAST = "2026-11-24", "2026-11-30"
# One day's calls, local hour -> (queue, seat, wait s, talk s, abandoned); None: IVR only.
DAY: list[tuple[int, tuple[str, str | None, float, float, bool] | None]] = [
    (8, ("operator", "1001", 5, 120, False)),
    (9, ("operator", "1002", 8, 240, False)),
    (10, ("operator", "1003", 12, 180, False)),
    (11, ("operator", "1004", 15, 300, False)),
    (14, ("legal", "2001", 3, 600, False)),
    (15, ("legal", "2001", 14, 420, False)),
    (16, ("operator", "1001", 18, 200, False)),
    (17, ("operator", "1002", 19, 160, False)),
    (20, ("operator", None, 40, 0, True)),
    (21, None),
]
# Per day, by hand: 10 calls, 9 offered, 8 answered, 1 abandoned; 6 answered within 15 s,
# 8 within 20 s: 接通率 8/9 = 88.9 %, SL15 = 6/9 = 66.7 %, SL20 = 8/9 = 88.9 %.


def ended(start: datetime, call: tuple[str, str | None, float, float, bool] | None) -> Any:
    t0 = start.timestamp()
    if call is None:
        return CallFacts(caller="13800000000", started_at=t0).as_data(t0 + 30, "done", [])
    queue, seat, wait, talk, abandoned = call
    queued = t0 + 20
    facts = CallFacts(
        caller="13800000000",
        started_at=t0,
        queue=queue,
        queued_at=queued,
        agent=seat,
        answered_at=queued + wait if seat else None,
        abandoned=abandoned,
    )
    return facts.as_data(queued + wait + talk, "done", [])


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    base = tmp_path_factory.mktemp("reports-e2e")
    settings = load_settings(var_dir=base / "var", database_url=f"sqlite:///{base / 'bo.db'}")
    engine = make_engine(settings)
    upgrade(engine)
    with Session(engine) as session:
        seed.demo(session)
    intake = OrderIntake(engine, WorkOrderConfig())
    first = datetime.fromisoformat(f"{FIRST}T00:00:00+08:00")
    for day in range(7):
        for hour, call in DAY:
            start = first + timedelta(days=day, hours=hour, minutes=day)
            call_id = f"e2e-{day}-{hour}"
            data = ended(start, call)
            intake(CallEvent(CallEventType.ENDED, call_id, start.astimezone(UTC), data))
    port = free_port(__import__("socket").SOCK_STREAM)
    app = create_app(settings, engine=engine)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    assert eventually(lambda: server.started, 15)
    yield f"http://127.0.0.1:{port}"
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


def signed_in(browser: Any, web: str, user: str) -> Any:
    page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page.goto(f"{web}/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", f"demo-{user}-12351")
    page.click("button[type=submit]:not(#lang-submit)")
    page.wait_for_url(lambda url: "/login" not in url)
    return page


def show(page: Any, first: str, last: str, queue: str = "") -> None:
    page.fill("#first", first)
    page.fill("#last", last)
    page.select_option("#queue", queue)
    page.click("#report-submit")
    page.wait_for_load_state()


def test_a_supervisor_reads_the_week_with_charts_and_exports_csv(web: str, browser: Any) -> None:
    page = signed_in(browser, web, "supervisor")
    page.goto(f"{web}/reports")
    assert page.get_attribute("#nav-reports", "aria-current") == "page"
    show(page, FIRST, LAST)
    assert page.inner_text("#connection-rate") == "88.9%"
    summary = page.inner_text("#report-summary")
    assert "70" in summary and "66.7%" in summary
    # Four charts; 24 hourly bars and 7 daily ones, the daily bars all the same height.
    assert page.locator("#report-charts svg").count() == 4
    daily = page.locator("#report-charts svg").nth(2).locator("rect.chart-bar")
    heights = {daily.nth(i).get_attribute("height") for i in range(daily.count())}
    assert daily.count() == 7 and len(heights) == 1
    # The Chinese title is drawn in a CJK font: six full-width glyphs of the 13 px title size.
    chart = page.locator("#report-charts svg").first
    title = chart.locator("text").first
    scale = chart.bounding_box()["width"] / 720
    assert title.text_content() == "各时段来电量"
    assert title.bounding_box()["width"] / scale == pytest.approx(6 * 13, rel=0.1)
    rows = page.locator("table[data-table=daily] tbody tr")
    assert rows.count() == 7 and "88.9%" in rows.first.inner_text()
    page.screenshot(path=str(SHOTS / "reports.png"), full_page=True)
    with page.expect_download() as download:
        page.click("#csv-agents")
    text = Path(download.value.path()).read_bytes()
    assert text.startswith(b"\xef\xbb\xbf") and "坐席".encode() in text
    assert b"2001,14," in text  # 2001 answered the two legal calls of each of 7 days
    page.close()


def test_the_queue_filter_the_inline_error_and_english(web: str, browser: Any) -> None:
    page = signed_in(browser, web, "admin")
    page.goto(f"{web}/reports")
    show(page, FIRST, LAST, "legal")
    assert page.inner_text("#connection-rate") == "100.0%"  # 14 offered, 14 answered
    assert page.locator("table[data-table=queues] tbody tr").count() == 1
    show(page, LAST, FIRST)
    assert page.inner_text("#report-error") == "结束日期早于开始日期"
    page.select_option("#lang-select", "en")
    page.click("#lang-submit")
    page.wait_for_load_state()
    assert "The end date is before the start date" in page.inner_text("#report-error")
    page.close()


def test_an_operator_gets_no_reports(web: str, browser: Any) -> None:
    page = signed_in(browser, web, "operator")
    assert page.goto(f"{web}/reports").status == 403
    # The refusal page has the operator's own menu, without the reports.
    assert page.locator("nav a[href='/desk']").count() == 1
    assert page.locator("#nav-reports").count() == 0
    page.close()
