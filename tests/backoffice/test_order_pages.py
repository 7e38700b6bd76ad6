"""The work-order pages without a browser, on SQLite and PostgreSQL: the list and its filters,
the detail page's access rules, the action forms and their errors, recordings and the audit."""

from __future__ import annotations

import re
import wave
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from backoffice.app import create_app
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
from backoffice.services import auth
from backoffice.services import work_orders as orders
from backoffice.services.transcripts import TranscriptRecord, store_transcript
from backoffice.sessions import CSRF_FIELD, SESSION_COOKIE, csrf_token, sign_session
from tests.backoffice.conftest import SECRET, Backend
from tests.backoffice.helpers import LOUDI_MOBILE, user

pytestmark = pytest.mark.integration

OTHER_COUNTY = "xinhua-handler"  # a handler of 新化县, next door to 双峰县


@pytest.fixture
def pages(db: Backend, tmp_path: Path) -> Iterator[TestClient]:
    settings = db.settings.model_copy(update={"recordings_dir": tmp_path})
    app = create_app(settings, engine=db.engine, secret_key=SECRET)
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def session(db: Backend) -> Iterator[Session]:
    with Session(db.engine, expire_on_commit=False) as s:
        yield s


def token_of(session: Session, username: str) -> str:
    known = session.exec(select(User).where(User.username == username)).first()
    if username == OTHER_COUNTY and known is None:
        xinhua = session.exec(select(OrgUnit).where(OrgUnit.name == "新化县总工会")).one()
        assert xinhua.id is not None
        session.add(User(username=OTHER_COUNTY, display_name="新化县承办人", role=Role.HANDLER,
                         org_unit_id=xinhua.id, password_hash=hash_password("x" * 12)))  # fmt: skip
        session.commit()
    return auth.issue_token(session, user(session, username))[0]


class As:
    """A browser-like client signed in as one user: session cookie and the form token."""

    def __init__(self, client: TestClient, session: Session, username: str) -> None:
        token = token_of(session, username)
        self.client = client
        self.cookies = {SESSION_COOKIE: sign_session(SECRET, token)}
        self.csrf = csrf_token(SECRET, token)

    def get(self, path: str, **kw: Any) -> httpx.Response:
        self._sign_in()
        response: httpx.Response = self.client.get(path, **kw)
        return response

    def post(self, path: str, data: dict[str, str], csrf: bool = True) -> httpx.Response:
        self._sign_in()
        form = {**data, CSRF_FIELD: self.csrf} if csrf else data
        response: httpx.Response = self.client.post(path, data=form)
        return response

    def _sign_in(self) -> None:
        # One TestClient serves several users in a test: its cookie jar holds this one's.
        self.client.cookies.clear()
        self.client.cookies.update(self.cookies)


def take(session: Session, **fields: Any) -> WorkOrder:
    operator = user(session, "operator")
    urgent = fields.pop("urgent", False)
    now = fields.pop("now", None)
    body = {"caller_phone": LOUDI_MOBILE, "category": "wage_arrears", "summary": "欠薪三个月",
            **fields}  # fmt: skip
    data = WorkOrderCreate.model_validate({**body, "urgent": urgent})
    return orders.create(session, data, operator, now=now).order


def dispatch(session: Session, order: WorkOrder, unit: int, now: Any = None) -> WorkOrder:
    assert order.id is not None
    operator = user(session, "operator")
    return orders.act(session, order.id, lc.Dispatch(unit), operator, now=now)


def numbers_in(html: str) -> list[str]:
    return re.findall(r'data-number="(GH\d+)"', html)


# --- the list ------------------------------------------------------------------------------


def test_pages_need_a_session(pages: TestClient) -> None:
    response = pages.get("/orders")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Forders"


def test_urgent_orders_come_first_and_deadline_cells_are_lit(
    pages: TestClient, db: Backend, session: Session
) -> None:
    county = db.units["双峰县总工会"]
    late = dispatch(session, take(session, now=utcnow() - timedelta(days=12)), county,
                    now=utcnow() - timedelta(days=12))  # fmt: skip
    fresh = take(session)
    soon = dispatch(session, take(session, urgent=True), county)  # signs within 2 hours
    html = As(pages, session, "operator").get("/orders").text
    assert numbers_in(html) == [soon.number, fresh.number, late.number]
    rows = {n: row for n, row in re.findall(r'data-number="(GH\d+)">(.*?)</tr>', html, re.S)}
    assert 'due-cell-due_soon">' in rows[soon.number]
    assert "即将到期" in rows[soon.number]
    assert 'due-cell-overdue">' in rows[late.number] and "已超期" in rows[late.number]
    assert "due-cell-due_soon" not in rows[fresh.number]
    assert "due-cell-overdue" not in rows[fresh.number]


def test_filters_status_unit_deadline_urgency_and_caller(
    pages: TestClient, db: Backend, session: Session
) -> None:
    county, xinhua = db.units["双峰县总工会"], db.units["新化县总工会"]
    past = utcnow() - timedelta(days=12)
    late = dispatch(session, take(session, now=past), county, now=past)
    soon = dispatch(session, take(session, urgent=True), xinhua)
    other_caller = take(session, caller_phone="13787001234")
    me = As(pages, session, "operator")

    def listed(query: str) -> set[str]:
        response = me.get(f"/orders?{query}")
        assert response.status_code == 200, response.text
        return set(numbers_in(response.text))

    assert listed("status=accepted") == {other_caller.number}
    assert listed(f"org_unit_id={db.units['娄底市总工会']}") == {late.number, soon.number}
    assert listed(f"org_unit_id={county}") == {late.number}
    assert listed("due=overdue") == {late.number}
    assert listed("due=due_soon") == {soon.number}
    assert listed("urgent=yes") == {soon.number}
    assert listed("urgent=no&category=wage_arrears") == {late.number, other_caller.number}
    assert listed("caller_phone=%2B86+137-8700-1234") == {other_caller.number}
    # Empty fields, as a form sends them, filter nothing.
    assert len(listed("status=&category=&org_unit_id=&due=&urgent=&caller_phone=")) == 3


def test_the_search_box_finds_orders_by_their_words_within_the_other_filters(
    pages: TestClient, db: Backend, session: Session
) -> None:
    builder = take(session, summary="宏达建筑工地拖欠工资", employer_name="宏达建筑有限公司")
    injured = take(session, category="work_injury", summary="车间工伤未认定")
    dispatch(session, take(session, summary="宏达建筑又欠薪"), db.units["双峰县总工会"])
    me = As(pages, session, "operator")
    page = me.get("/orders?q=宏达建筑&status=accepted")
    assert page.status_code == 200, page.text
    assert set(numbers_in(page.text)) == {builder.number}
    assert 'value="宏达建筑"' in page.text  # the box keeps what was typed
    assert set(numbers_in(me.get("/orders?q=工伤").text)) == {injured.number}
    refused = me.get("/orders?q=" + "欠" * 201)
    assert refused.status_code == 422 and "at most 200" in refused.text


def test_a_bad_filter_value_is_a_clear_422(pages: TestClient, session: Session) -> None:
    me = As(pages, session, "operator")
    for query, words in [
        ("status=lost", "not a filter value"),
        ("due=ok", "due_soon or overdue"),
        ("org_unit_id=abc", "not a unit id"),
        ("caller_phone=hello", "not a phone number"),
        ("created_from=2026-13-01", "not a date"),
        ("cursor=bm9wZQ", "cursor"),
    ]:
        response = me.get(f"/orders?{query}")
        assert response.status_code == 422, query
        assert words in response.text, query


def test_a_handler_cannot_filter_outside_their_subtree_nor_a_viewer_by_number(
    pages: TestClient, db: Backend, session: Session
) -> None:
    response = As(pages, session, "handler").get(f"/orders?org_unit_id={db.units['新化县总工会']}")
    assert response.status_code == 422
    assert "not in your part of the network" in response.text
    viewer = As(pages, session, "viewer")
    assert 'name="caller_phone"' not in viewer.get("/orders").text
    refused = viewer.get(f"/orders?caller_phone={LOUDI_MOBILE}")
    assert refused.status_code == 403 and "does not see callers&#39; numbers" in refused.text


def test_pages_by_keyset_without_repeats(pages: TestClient, session: Session) -> None:
    start = utcnow() - timedelta(hours=1)
    taken = [take(session, now=start + timedelta(seconds=i), urgent=i % 10 == 0)
             for i in range(30)]  # fmt: skip
    me = As(pages, session, "operator")
    first = me.get("/orders").text
    found = re.search(r'href="(/orders\?cursor=[^"]+)" id="next-page"', first)
    assert found is not None
    second = me.get(found.group(1).replace("&amp;", "&")).text
    assert 'id="next-page"' not in second
    seen = numbers_in(first) + numbers_in(second)
    urgent = [o.number for o in reversed(taken) if o.urgent]
    rest = [o.number for o in reversed(taken) if not o.urgent]
    assert len(numbers_in(first)) == 25
    assert seen == urgent + rest


def test_a_viewer_sees_masked_numbers_in_the_list_and_the_order(
    pages: TestClient, session: Session
) -> None:
    order = take(session, summary="工资卡号 13873801234，身份证 430521199001011234")
    viewer = As(pages, session, "viewer")
    listed = viewer.get("/orders").text
    assert "138****1234" in listed and LOUDI_MOBILE not in listed
    detail = viewer.get(f"/orders/{order.id}").text
    assert 'id="caller-phone">138****1234<' in detail
    assert LOUDI_MOBILE not in detail and "430521199001011234" not in detail
    assert 'id="no-actions"' in detail
    assert LOUDI_MOBILE in As(pages, session, "operator").get(f"/orders/{order.id}").text


# --- the detail page's access rules ------------------------------------------------------


def test_another_countys_handler_gets_404_as_from_the_api(
    pages: TestClient, db: Backend, session: Session
) -> None:
    order = dispatch(session, take(session), db.units["双峰县总工会"])
    assert As(pages, session, "handler").get(f"/orders/{order.id}").status_code == 200
    other = As(pages, session, OTHER_COUNTY)
    for path in (f"/orders/{order.id}", f"/orders/{order.id}/recording/mixed"):
        response = other.get(path)
        assert response.status_code == 404
        assert order.number not in response.text and "不在您的管辖范围内" in response.text
    refused = other.post(f"/orders/{order.id}/actions/sign", {"note": ""})
    assert refused.status_code == 404
    token = token_of(session, OTHER_COUNTY)
    api = pages.get(f"/api/v1/work-orders/{order.id}", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 404


def test_a_confidential_order_opens_for_its_supervisor_only_and_is_audited(
    pages: TestClient, session: Session
) -> None:
    order = take(session, confidential=True)
    assert As(pages, session, "operator").get(f"/orders/{order.id}").status_code == 404
    page = As(pages, session, "supervisor").get(f"/orders/{order.id}")
    assert page.status_code == 200 and order.number in page.text
    entries = session.exec(select(AuditLog).where(AuditLog.object_id == str(order.id))).all()
    assert [(e.action, e.user_id) for e in entries] == [
        (AuditAction.VIEW_CONFIDENTIAL_ORDER, user(session, "supervisor").id)
    ]


def test_the_detail_page_shows_fields_timeline_linked_orders_and_transcript(
    pages: TestClient, db: Backend, session: Session
) -> None:
    earlier = take(session, employer_name="娄底某建筑公司", now=utcnow() - timedelta(days=3))
    order = take(session, employer_name="娄底某建筑公司", call_id="1733140000.17")
    dispatch(session, order, db.units["双峰县总工会"])
    segments = [{"speaker": "caller", "start": 0.0, "end": 2.0, "text": "我的电话 13873801234"}]
    record = TranscriptRecord("1733140000.17", "zh", segments, "我的电话", 2.0, "test")
    store_transcript(session, record)
    html = As(pages, session, "operator").get(f"/orders/{order.id}").text
    assert "娄底某建筑公司" in html and "双峰县总工会" in html
    assert re.search(r'data-action="create">.*?受理.*?接线员', html, re.S)
    assert re.search(r'data-action="dispatch">.*?派单.*?接线员.*?已受理 → 已派单', html, re.S)
    assert f'href="/orders/{earlier.id}"' in html
    assert "我的电话 13873801234" in html
    shown = As(pages, session, "viewer").get(f"/orders/{order.id}").text
    assert "我的电话 138****1234" in shown


# --- the action forms ----------------------------------------------------------------------


def test_the_forms_take_an_order_from_dispatch_to_close(
    pages: TestClient, db: Backend, session: Session
) -> None:
    order = take(session)
    path = f"/orders/{order.id}"
    operator, handler = As(pages, session, "operator"), As(pages, session, "handler")
    detail = operator.get(path).text
    assert 'id="form-dispatch"' in detail and 'id="form-sign"' not in detail
    steps: list[tuple[As, str, dict[str, str], str]] = [
        (operator, "dispatch", {"org_unit_id": str(db.units["双峰县总工会"]), "note": "请核实"},
         "dispatched"),
        (handler, "sign", {"note": ""}, "signed"),
        (handler, "reply", {"text": "已协调企业支付", "outcome": "wages_recovered",
                            "wages_recovered": "36000.50"}, "replied"),
        (operator, "return_visit", {"satisfaction": "5", "note": "满意"}, "closed"),
    ]  # fmt: skip
    for who, action, form, status in steps:
        response = who.post(f"{path}/actions/{action}", form)
        assert response.status_code == 303, (action, response.text)
        assert response.headers["location"] == f"{path}#timeline"
        session.expire_all()
        assert session.get(WorkOrder, order.id).status == status  # type: ignore[union-attr]
    final = session.get(WorkOrder, order.id)
    assert final is not None and final.wages_recovered_fen == 3_600_050
    assert final.satisfaction == 5
    assert "36000.50" in operator.get(path).text


def test_an_unsatisfied_visit_reopens_and_close_needs_the_right_state(
    pages: TestClient, db: Backend, session: Session
) -> None:
    order = dispatch(session, take(session), db.units["双峰县总工会"])
    assert order.id is not None
    handler = user(session, "handler")
    orders.act(session, order.id, lc.Sign(), handler)
    orders.act(session, order.id, lc.Reply("已答复"), handler)
    operator = As(pages, session, "operator")
    path = f"/orders/{order.id}/actions"
    assert operator.post(f"{path}/return_visit", {"satisfaction": "2"}).status_code == 303
    session.expire_all()
    assert session.get(WorkOrder, order.id).status == "reopened"  # type: ignore[union-attr]
    # The form for close is there (reopened allows it); a form for sign is not: posting it
    # anyway is the lifecycle's 409, shown above the form.
    refused = operator.post(f"{path}/sign", {"note": "x"})
    assert refused.status_code == 403  # an operator may not sign at all
    supervisor = As(pages, session, "supervisor")
    closed = supervisor.post(f"{path}/close", {"note": "结案"})
    assert closed.status_code == 303
    again = supervisor.post(f"{path}/close", {"note": "再次"})
    assert again.status_code == 409 and "cannot close a work order that is" in again.text


def test_a_bad_form_value_is_shown_beside_its_field_and_nothing_typed_is_lost(
    pages: TestClient, db: Backend, session: Session
) -> None:
    order = dispatch(session, take(session), db.units["双峰县总工会"])
    assert order.id is not None
    handler_user = user(session, "handler")
    orders.act(session, order.id, lc.Sign(), handler_user)
    handler = As(pages, session, "handler")
    path = f"/orders/{order.id}/actions"
    typed = {"text": "已联系企业<负责人>", "outcome": "wages_recovered",
             "wages_recovered": "12.345"}  # fmt: skip
    response = handler.post(f"{path}/reply", typed)
    assert response.status_code == 422
    html = response.text
    assert 'id="err-reply-wages_recovered"' in html and "最多两位小数" in html
    assert "已联系企业&lt;负责人&gt;</textarea>" in html
    assert 'value="12.345"' in html
    assert re.search(r'<option value="wages_recovered" selected>', html)
    missing = handler.post(f"{path}/request_extension", {"working_days": "11", "reason": " "})
    assert missing.status_code == 422
    assert 'id="err-request_extension-working_days"' in missing.text
    assert 'id="err-request_extension-reason"' in missing.text
    session.expire_all()
    unchanged = session.get(WorkOrder, order.id)
    assert unchanged is not None and unchanged.status == "signed"
    assert unchanged.extension_pending_days == 0


def test_forms_need_the_csrf_token(pages: TestClient, session: Session) -> None:
    order = take(session)
    response = As(pages, session, "operator").post(
        f"/orders/{order.id}/actions/remind", {"note": ""}, csrf=False
    )
    assert response.status_code == 403 and "CSRF" in response.text


def test_a_staff_member_takes_an_order_on_the_new_page(pages: TestClient, session: Session) -> None:
    operator = As(pages, session, "operator")
    assert operator.get("/orders/new").status_code == 200
    bad = {"channel": "phone", "caller_phone": "12", "category": "wage_arrears",
           "summary": "老板拖欠工资", "employer_name": "某厂", "urgent": "on"}  # fmt: skip
    response = operator.post("/orders/new", bad)
    assert response.status_code == 422
    assert 'id="err-caller_phone"' in response.text
    assert "老板拖欠工资</textarea>" in response.text and 'id="n-urgent" checked' in response.text
    assert session.exec(select(WorkOrder)).first() is None
    made = operator.post("/orders/new", {**bad, "caller_phone": LOUDI_MOBILE})
    assert made.status_code == 303
    order = session.exec(select(WorkOrder)).one()
    assert made.headers["location"] == f"/orders/{order.id}"
    assert order.urgent and order.employer_name == "某厂"
    assert As(pages, session, "viewer").get("/orders/new").status_code == 403


# --- recordings ----------------------------------------------------------------------------


def _wav(path: Path, frames: int) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(bytes(range(256)) * (frames * 2 // 256))
    return path.read_bytes()


def test_recordings_stream_with_ranges_and_every_listen_is_audited(
    pages: TestClient, db: Backend, session: Session, tmp_path: Path
) -> None:
    order = take(session, call_id="1733140000.42")
    dispatch(session, order, db.units["双峰县总工会"])
    mixed = _wav(tmp_path / "calls" / "1733140000.42.wav", 8000)
    _wav(tmp_path / "calls" / "1733140000.42-caller.wav", 4000)
    operator = As(pages, session, "operator")
    page = operator.get(f"/orders/{order.id}").text
    assert 'id="audio-mixed"' in page and 'id="audio-caller"' in page
    assert 'id="audio-agent"' not in page
    url = f"/orders/{order.id}/recording/mixed"
    whole = operator.get(url)
    assert whole.status_code == 200 and whole.content == mixed
    assert whole.headers["accept-ranges"] == "bytes"
    part = operator.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == mixed[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(mixed)}"
    tail = operator.get(url, headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == mixed[-10:]
    beyond = operator.get(url, headers={"Range": f"bytes={len(mixed)}-"})
    assert beyond.status_code == 416
    assert operator.get(f"/orders/{order.id}/recording/agent").status_code == 404
    assert operator.get(f"/orders/{order.id}/recording/..%2F..%2Fetc").status_code == 404
    query = select(AuditLog).where(AuditLog.action == AuditAction.VIEW_RECORDING)
    entries = session.exec(query.order_by(col(AuditLog.id))).all()
    assert [e.data["range"] for e in entries] == ["", "bytes=100-199", "bytes=-10",
                                                  f"bytes={len(mixed)}-"]  # fmt: skip
    assert {e.user_id for e in entries} == {user(session, "operator").id}


def test_roles_that_may_not_hear_recordings_get_403(
    pages: TestClient, db: Backend, session: Session, tmp_path: Path
) -> None:
    order = take(session, call_id="1733140000.43")
    dispatch(session, order, db.units["双峰县总工会"])
    _wav(tmp_path / "calls" / "1733140000.43.wav", 800)
    for name in ("handler", "viewer"):
        who = As(pages, session, name)
        assert who.get(f"/orders/{order.id}/recording/mixed").status_code == 403
        assert 'id="no-recording-role"' in who.get(f"/orders/{order.id}").text
    query = select(AuditLog).where(AuditLog.action == AuditAction.VIEW_RECORDING)
    assert session.exec(query).first() is None


def test_the_urgent_first_order_is_one_range_of_its_index(db: Backend, session: Session) -> None:
    from tests.backoffice.test_work_order_service import _plan

    query = "SELECT id FROM work_order ORDER BY urgent DESC, created_at DESC, id DESC LIMIT 26"
    plan = _plan(db, session, query)
    assert "ix_work_order_urgent_created_at_id" in plan
    assert "Sort" not in plan and "TEMP B-TREE" not in plan


def test_the_pages_speak_english_on_request(pages: TestClient, session: Session) -> None:
    order = take(session)
    me = As(pages, session, "operator")
    me.cookies["hotline_lang"] = "en"
    listed = me.get("/orders").text
    assert "Work orders" in listed and "wage arrears" in listed and "工单列表" not in listed
    detail = me.get(f"/orders/{order.id}").text
    assert ">Dispatch<" in detail and "Timeline" in detail and "派单" not in detail
