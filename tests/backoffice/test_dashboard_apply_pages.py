"""The dashboard and the public web form through the app (TestClient) on both databases."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from backoffice.domain.dashboard import Due
from backoffice.domain.lifecycle import Status
from backoffice.models import Channel, WorkOrder
from backoffice.services import dashboard
from backoffice.sessions import SESSION_COOKIE, sign_session
from tests.backoffice.conftest import SECRET, Backend
from tests.backoffice.helpers import act, create, ok, user

pytestmark = pytest.mark.integration

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
FORM = {"name": "王五", "phone": "13873801234", "id_number": "", "employer": "宏达建筑",
        "category": "wage_arrears", "description": "工地拖欠三个月工资，共两万元",
        "consent": "yes"}  # fmt: skip


def sign_in(client: TestClient, db: Backend, username: str) -> None:
    token = db.headers[username]["Authorization"].removeprefix("Bearer ")
    client.cookies.set(SESSION_COOKIE, sign_session(SECRET, token))


def csrf(client: TestClient, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    found = CSRF.search(page.text)
    assert found is not None
    return found.group(1)


def post_form(client: TestClient, fields: dict[str, str], **extra: str) -> httpx.Response:
    token = csrf(client, "/apply")
    return client.post("/apply", data={**fields, **extra, "csrf_token": token})


def web_orders(db: Backend) -> list[WorkOrder]:
    with Session(db.engine) as session:
        query = select(WorkOrder).where(WorkOrder.channel == Channel.WEB)
        return list(session.exec(query).all())


def figure(html: str, name: str) -> str:
    match = re.search(rf'id="fig-{name}">.*?<div class="value">(.*?)</div>', html, re.S)
    assert match is not None, name
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


def test_the_dashboard_counts_what_the_user_may_see(client: TestClient, db: Backend) -> None:
    op = db.headers["operator"]
    mine = create(client, op, category="work_injury")
    ok(act(client, op, mine["id"], "dispatch", org_unit_id=db.units["双峰县总工会"]))
    ok(act(client, db.headers["handler"], mine["id"], "sign"))
    other = create(client, op)
    ok(act(client, op, other["id"], "dispatch", org_unit_id=db.units["新化县总工会"]))
    create(client, op)  # accepted, proposed for Loudi from the number
    sign_in(client, db, "supervisor")
    page = client.get("/dashboard")
    assert page.status_code == 200
    html = page.text
    assert figure(html, "today") == "3" and figure(html, "open") == "3"
    assert figure(html, "overdue") == "0"
    assert re.search(r'data-status="dispatched"><td>已派单</td><td class="n">1<', html)
    assert re.search(r'data-status="signed"><td>已签收</td><td class="n">1<', html)
    assert re.search(r'data-category="work_injury"><td>工伤</td><td class="n">1<', html)
    loudi = db.units["娄底市总工会"]
    assert re.search(rf'data-unit="{loudi}"><td>娄底市总工会</td><td class="n">3<', html)
    assert "小时" in figure(html, "sign")  # one sign-for, a fraction of an hour after dispatch
    # The county's handler sees its own order only, by its own units.
    sign_in(client, db, "handler")
    html = client.get("/dashboard").text
    assert figure(html, "open") == "1"
    county = db.units["双峰县总工会"]
    assert re.search(rf'data-unit="{county}"><td>双峰县总工会</td><td class="n">1<', html)
    client.cookies.set("hotline_lang", "en")
    assert "Taken in today" in client.get("/dashboard").text


def test_overdue_and_due_soon_follow_the_clock(db: Backend, client: TestClient) -> None:
    op = db.headers["operator"]
    order = create(client, op)
    ok(act(client, op, order["id"], "dispatch", org_unit_id=db.units["双峰县总工会"]))
    with Session(db.engine) as session:
        row = session.get(WorkOrder, order["id"])
        assert row is not None and row.sign_due is not None
        supervisor = user(session, "supervisor")
        tz = db.settings.timezone
        late = dashboard.dashboard(
            session, supervisor, tz=tz, now=row.sign_due + timedelta(hours=1)
        )
        soon = dashboard.dashboard(
            session, supervisor, tz=tz, now=row.sign_due - timedelta(hours=2)
        )
        calm = dashboard.dashboard(session, supervisor, tz=tz, now=row.sign_due - timedelta(days=3))
    assert (late.overdue, late.due_soon) == (1, 0)
    assert (soon.overdue, soon.due_soon) == (0, 1)
    assert (calm.overdue, calm.due_soon, calm.open) == (0, 0, 1)
    assert Due.OVERDUE.value == "overdue" and late.by_status[1] == (Status.DISPATCHED, 1)


@pytest.mark.parametrize("username", ["lawyer", "viewer"])
def test_other_roles_cannot_open_the_dashboard(
    client: TestClient, db: Backend, username: str
) -> None:
    sign_in(client, db, username)
    assert client.get("/dashboard").status_code == 403


def test_the_dashboard_needs_a_session(client: TestClient) -> None:
    response = client.get("/dashboard", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_an_application_becomes_a_web_order(client: TestClient, db: Backend) -> None:
    county = db.units["双峰县总工会"]
    response = post_form(client, {**FORM, "org_unit_id": str(county),
                                  "id_number": "430103199001011234"})  # fmt: skip
    assert response.status_code == 201, response.text
    [order] = web_orders(db)
    assert f'id="order-number">{order.number}<' in response.text
    assert order.number[2:] in response.text  # the digits to type at the IVR
    assert (order.caller_name, order.caller_phone, order.employer_name) == (
        "王五", "13873801234", "宏达建筑")  # fmt: skip
    assert order.org_unit_id == county and order.status is Status.ACCEPTED
    assert order.summary.endswith("身份证号：430103199001011234")
    # The viewer sees the ID masked like a number.
    shown = ok(client.get(f"/api/v1/work-orders/{order.id}", headers=db.headers["viewer"]))
    assert "430103199001011234" not in shown["summary"]


def test_a_refused_application_keeps_the_values_and_says_why(
    client: TestClient, db: Backend
) -> None:
    response = post_form(client, {**FORM, "phone": "12345", "consent": ""})
    assert response.status_code == 422
    html = response.text
    assert 'id="err-phone"' in html and "请填写正确的电话号码" in html
    assert 'id="err-consent"' in html and 'id="err-name"' not in html
    assert 'value="王五"' in html and 'value="12345"' in html and "共两万元</textarea>" in html
    assert web_orders(db) == []
    # Escaped, not echoed as markup.
    hostile = post_form(client, {**FORM, "name": "<script>alert(1)</script>", "phone": ""})
    assert "<script>alert(1)</script>" not in hostile.text
    assert "&lt;script&gt;" in hostile.text


def test_csrf_honeypot_and_rate_limit(client: TestClient, db: Backend) -> None:
    assert client.post("/apply", data=FORM).status_code == 403  # no CSRF token
    trapped = post_form(client, FORM, website="http://spam.example")
    assert trapped.status_code == 200 and "order-number" not in trapped.text
    assert web_orders(db) == []
    for _ in range(4):  # the honeypot hit counted as one of the five
        assert post_form(client, FORM).status_code == 201
    limited = post_form(client, FORM)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    assert "提交过于频繁" in limited.text and 'value="王五"' in limited.text
    assert len(web_orders(db)) == 4


def test_the_form_offers_cities_and_counties(client: TestClient, db: Backend) -> None:
    html = client.get("/apply").text
    assert f'<option value="{db.units["娄底市总工会"]}"' in html
    assert f'<option value="{db.units["双峰县总工会"]}"' in html
    assert f'value="{db.units["荷叶镇工会服务站"]}"' not in html  # town stations: too fine
    assert f'value="{db.units["湖南省总工会"]}"' not in html
    bad = post_form(client, {**FORM, "org_unit_id": str(db.units["荷叶镇工会服务站"])})
    assert bad.status_code == 422 and 'id="err-org_unit_id"' in bad.text


def test_the_public_api_takes_the_unit_too(client: TestClient, db: Backend) -> None:
    body = {"caller_phone": "13873801234", "summary": "拖欠工资三个月"}
    county = db.units["双峰县总工会"]
    receipt = ok(
        client.post("/api/v1/public/work-orders", json={**body, "org_unit_id": county}), 201
    )
    [order] = web_orders(db)
    assert order.number == receipt["number"] and order.org_unit_id == county
    unknown = client.post("/api/v1/public/work-orders", json={**body, "org_unit_id": 999999})
    assert unknown.status_code == 422
    assert unknown.json() == {"detail": "org unit 999999 does not exist"}
    assert len(web_orders(db)) == 1
