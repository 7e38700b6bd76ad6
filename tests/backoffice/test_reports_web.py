"""Reports on SQLite and PostgreSQL: call figures kept from `ended` events and read back by
local day, the /reports page (roles, bad input, languages) and its CSV export."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete
from sqlmodel import Session, select

from backoffice.errors import Invalid
from backoffice.intake import OrderIntake
from backoffice.models import CallStat, WorkOrder
from backoffice.services import call_stats
from backoffice.services.work_orders import WorkOrderConfig
from hotline.callevents.model import CallEvent, CallEventType, CallFacts
from hotline.reports.facts import Period
from tests.backoffice.conftest import Backend

pytestmark = pytest.mark.integration

PASSWORDS = {
    "supervisor": "demo-supervisor-12351",
    "admin": "demo-admin-12351",
    "operator": "demo-operator-12351",
    "viewer": "demo-viewer-12351",
    "lawyer": "demo-lawyer-12351",
}
DEC_1 = "first=2026-12-01&last=2026-12-01"


def _epoch(local: str) -> float:
    return datetime.fromisoformat(local + "+08:00").timestamp()


def ended(
    local: str,
    *,
    queue: str | None = "operator",
    agent: str | None = None,
    wait: float = 0.0,
    talk: float = 0.0,
    abandoned: bool = False,
) -> dict[str, Any]:
    """An `ended` payload as the IVR's journal writes it."""
    start = _epoch(local)
    queued = start + 20 if queue else None
    facts = CallFacts(
        caller="13800000000",
        started_at=start,
        queue=queue,
        queued_at=queued,
        agent=agent,
        abandoned=abandoned,
        answered_at=queued + wait if agent and queued else None,
    )
    end = (queued or start) + wait + talk
    return facts.as_data(end, "done", [])


@pytest.fixture
def stats(db: Backend) -> Iterator[Backend]:
    with Session(db.engine) as session:
        session.exec(delete(CallStat))
        session.commit()
    yield db


def seed_calls(backend: Backend) -> None:
    calls = {
        "m1": ended("2026-12-01T00:00:00", queue=None),  # the first second of 1 December
        "m2": ended("2026-12-01T08:10:00", agent="1001", wait=10, talk=100),
        "m3": ended("2026-12-01T08:40:00", agent="=1+1", wait=18, talk=200),
        "m4": ended("2026-12-01T08:50:00", wait=30, abandoned=True),
        "m5": ended("2026-12-01T23:59:59", queue="legal", agent="2001", wait=25, talk=300),
        "m6": ended("2026-12-02T00:00:00", agent="1001", wait=1, talk=1),  # the next day
        "m7": ended("2026-11-30T23:59:59", agent="1001", wait=1, talk=1),  # the day before
    }
    with Session(backend.engine) as session:
        for call_id, data in calls.items():
            call_stats.record(session, call_id, data)


def test_figures_are_kept_once_and_read_back_by_local_day(stats: Backend) -> None:
    seed_calls(stats)
    with Session(stats.engine) as session:
        call_stats.record(
            session, "m2", ended("2026-12-01T08:10:00", agent="1001", wait=10, talk=100)
        )  # a re-delivery
        assert len(session.exec(select(CallStat)).all()) == 7
        day = Period(datetime(2026, 12, 1).date(), datetime(2026, 12, 1).date(), "Asia/Shanghai")
        facts = call_stats.facts(session, day)
        assert [f.call_id for f in facts] == ["m1", "m2", "m3", "m4", "m5"]
        m2 = facts[1]
        assert m2.started_at == datetime(2026, 12, 1, 0, 10, tzinfo=UTC)
        assert (m2.queue, m2.agent, m2.wait_s, m2.talk_s) == ("operator", "1001", 10.0, 100.0)
        assert facts[3].abandoned and not facts[3].answered
        assert [f.call_id for f in call_stats.facts(session, day, "legal")] == ["m5"]
        assert call_stats.queues(session) == ["legal", "operator"]


def test_a_malformed_payload_is_refused_and_nothing_is_stored(stats: Backend) -> None:
    bad = ended("2026-12-01T08:10:00", agent="1001") | {"wait_s": -3}
    with Session(stats.engine) as session:
        with pytest.raises(Invalid, match="wait_s"):
            call_stats.record(session, "bad-1", bad)
        assert session.exec(select(CallStat)).all() == []


def test_the_intake_keeps_the_figures_and_still_makes_the_order_of_a_bad_one(
    stats: Backend,
) -> None:
    intake = OrderIntake(stats.engine, WorkOrderConfig())
    at = datetime(2026, 12, 1, tzinfo=UTC)
    good = ended("2026-12-01T09:00:00", agent="1001", wait=4, talk=60)
    bad = ended("2026-12-01T09:05:00") | {"started_at": "not a time"}
    intake(CallEvent(CallEventType.ENDED, "intake-good", at, good))
    intake(CallEvent(CallEventType.ENDED, "intake-good", at, good))  # delivered twice
    intake(CallEvent(CallEventType.ENDED, "intake-bad", at, bad))
    with Session(stats.engine) as session:
        rows = session.exec(select(CallStat)).all()
        assert [(r.call_id, r.talk_s) for r in rows] == [("intake-good", 60.0)]
        orders = session.exec(select(WorkOrder.call_id)).all()
        assert sorted(o for o in orders if o) == ["intake-bad", "intake-good"]


# --- the page -----------------------------------------------------------------------------


def sign_in(client: TestClient, username: str) -> None:
    response = client.post(
        "/api/v1/auth/login", data={"username": username, "password": PASSWORDS[username]}
    )
    assert response.status_code == 200


def test_supervisors_see_the_figures_of_the_day(client: TestClient, stats: Backend) -> None:
    seed_calls(stats)
    sign_in(client, "supervisor")
    page = client.get(f"/reports?{DEC_1}")
    assert page.status_code == 200
    html = page.text
    assert "话务报表" in html and 'id="nav-reports"' in html
    # 4 offered (m2-m5), 3 answered: 接通率 75.0 %.
    assert '<div class="value" id="connection-rate">75.0%</div>' in html
    assert html.count("<svg") == 4 and "各时段来电量" in html and "每日接通率" in html
    assert "=1+1" in html  # a seat name shown as text on the page


@pytest.mark.parametrize("username", ["operator", "lawyer", "viewer"])
def test_other_roles_are_refused(client: TestClient, stats: Backend, username: str) -> None:
    sign_in(client, username)
    assert client.get("/reports").status_code == 403
    assert client.get("/reports/hourly.csv").status_code == 403
    refusal = client.get("/reports").text
    assert 'href="/dashboard"' in refusal and 'id="nav-reports"' not in refusal  # the user's menu


def test_signed_out_goes_to_the_login(client: TestClient, stats: Backend) -> None:
    response = client.get("/reports", follow_redirects=False)
    assert response.status_code in (302, 303) and "/login" in response.headers["location"]


@pytest.mark.parametrize(
    ("query", "zh", "en"),
    [
        ("first=2026-12-02&last=2026-12-01", "结束日期早于开始日期", "before the start date"),
        ("first=2026-12-1x&last=2026-12-01", "日期格式应为", "YYYY-MM-DD"),
        ("first=2020-01-01&last=2026-12-01", "最长 366 天", "at most 366 days"),
        (f"{DEC_1}&sl=100", "目标服务水平须大于", "above 0% and below 100%"),
        (f"{DEC_1}&sl=abc", "须为数字", "must be numbers"),
        (f"{DEC_1}&answer=0", "1 秒至 3600 秒", "between 1 and 3600"),
    ],
)
def test_bad_input_is_shown_inline_with_422(
    client: TestClient, stats: Backend, query: str, zh: str, en: str
) -> None:
    sign_in(client, "admin")
    page = client.get(f"/reports?{query}")
    assert page.status_code == 422
    assert 'id="report-error"' in page.text and zh in page.text
    assert 'id="report-form"' in page.text  # the form is still there to correct
    client.cookies.set("hotline_lang", "en")
    assert en in client.get(f"/reports?{query}").text
    csv_answer = client.get(f"/reports/daily.csv?{query}")
    assert csv_answer.status_code == 422 and en in csv_answer.text


def test_the_page_in_english(client: TestClient, stats: Backend) -> None:
    sign_in(client, "admin")
    client.cookies.set("hotline_lang", "en")
    html = client.get(f"/reports?{DEC_1}").text
    assert "Call reports" in html and "Connection rate by day" in html


def read_csv(response: Any) -> list[list[str]]:
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")  # UTF-8 byte-order mark
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_csv_of_each_table(client: TestClient, stats: Backend) -> None:
    seed_calls(stats)
    sign_in(client, "supervisor")
    hourly = read_csv(client.get(f"/reports/hourly.csv?{DEC_1}"))
    assert hourly[0][:3] == ["时段", "来电数", "进入队列"]
    assert hourly[9][:5] == ["08:00", "3", "3", "2", "1"]
    agents = read_csv(client.get(f"/reports/agents.csv?{DEC_1}"))
    assert sorted(row[0] for row in agents[1:]) == ["'=1+1", "1001", "2001"]
    queues = read_csv(client.get(f"/reports/queues.csv?{DEC_1}&queue=legal"))
    assert [row[:3] for row in queues[1:]] == [["legal", "1", "1"]]
    daily = read_csv(client.get(f"/reports/daily.csv?{DEC_1}"))
    assert daily[1][:2] == ["2026-12-01", "5"]
    staffing = read_csv(client.get(f"/reports/staffing.csv?{DEC_1}&sl=80&answer=20"))
    assert len(staffing) == 25 and staffing[9][3] == "1"
    disposition = client.get(f"/reports/daily.csv?{DEC_1}").headers["content-disposition"]
    assert disposition == 'attachment; filename="hotline-daily-2026-12-01-2026-12-01.csv"'
    assert client.get(f"/reports/nothing.csv?{DEC_1}").status_code == 404
