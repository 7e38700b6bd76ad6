"""Who sees which work order, and with whose number masked."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from backoffice.models import AuditAction, AuditLog
from tests.backoffice.conftest import Backend
from tests.backoffice.helpers import API, act, create, ok

pytestmark = pytest.mark.integration


def dispatched(client: TestClient, db: Backend, unit: str, **fields: object) -> Any:
    order = create(client, db.headers["operator"], **fields)
    return ok(
        act(client, db.headers["operator"], order["id"], "dispatch", org_unit_id=db.units[unit])
    )


def test_a_handler_sees_only_orders_dispatched_to_their_subtree(
    client: TestClient, db: Backend
) -> None:
    handler = db.headers["handler"]  # 双峰县总工会
    mine = dispatched(client, db, "双峰县总工会")
    theirs = dispatched(client, db, "新化县总工会")
    town = dispatched(client, db, "荷叶镇工会服务站")
    proposed = create(client, db.headers["operator"], org_unit_id=db.units["双峰县总工会"])

    assert ok(client.get(f"{API}/work-orders/{mine['id']}", headers=handler))["id"] == mine["id"]
    # Another county's order does not exist as far as this handler can tell: 404, not 403.
    for hidden in (theirs, proposed):
        response = client.get(f"{API}/work-orders/{hidden['id']}", headers=handler)
        assert response.status_code == 404
        assert response.json() == {"detail": f"work order {hidden['id']} not found"}
        assert act(client, handler, hidden["id"], "sign").status_code == 404
    listed = {o["id"] for o in ok(client.get(f"{API}/work-orders", headers=handler))["items"]}
    assert listed == {mine["id"], town["id"]}


def test_a_handler_acts_only_for_their_own_unit(client: TestClient, db: Backend) -> None:
    town = dispatched(client, db, "荷叶镇工会服务站")
    handler = db.headers["handler"]
    # The county sees its town station's orders but signing is the station's business.
    seen = ok(client.get(f"{API}/work-orders/{town['id']}", headers=handler))
    assert seen["allowed_actions"] == []
    response = act(client, handler, town["id"], "sign")
    assert response.status_code == 403
    assert "another org unit" in response.json()["detail"]


def test_roles_are_checked_before_the_status(client: TestClient, db: Backend) -> None:
    order = dispatched(client, db, "双峰县总工会")
    response = act(client, db.headers["handler"], order["id"], "dispatch", org_unit_id=1)
    assert response.status_code == 403
    assert "may not dispatch" in response.json()["detail"]
    viewer = db.headers["viewer"]
    assert act(client, viewer, order["id"], "remind").status_code == 403
    body = {"caller_phone": "13873801234", "category": "other"}
    assert client.post(f"{API}/work-orders", headers=viewer, json=body).status_code == 403
    assert (
        client.post(f"{API}/work-orders", headers=db.headers["handler"], json=body).status_code
        == 403
    )


def test_viewers_get_masked_numbers_everywhere(client: TestClient, db: Backend) -> None:
    summary = "来电人13873801234反映欠薪，身份证430103199001011234"
    order = create(
        client, db.headers["operator"], summary=summary, transcript="我的电话是13873801234"
    )
    shown = ok(client.get(f"{API}/work-orders/{order['id']}", headers=db.headers["viewer"]))
    assert shown["caller_phone"] == "138****1234"
    assert "13873801234" not in shown["summary"] and "138****1234" in shown["summary"]
    assert "430103199001011234" not in shown["summary"]
    assert shown["transcript"] == "我的电话是138****1234"
    listed = ok(client.get(f"{API}/work-orders", headers=db.headers["viewer"]))["items"]
    assert [o["caller_phone"] for o in listed] == ["138****1234"]
    full = ok(client.get(f"{API}/work-orders/{order['id']}", headers=db.headers["operator"]))
    assert full["caller_phone"] == "13873801234"


def test_handlers_see_the_number_to_call_back_unless_the_caller_is_anonymous(
    client: TestClient, db: Backend
) -> None:
    named = dispatched(client, db, "双峰县总工会")
    anonymous = dispatched(client, db, "双峰县总工会", anonymous=True)
    handler = db.headers["handler"]
    assert ok(client.get(f"{API}/work-orders/{named['id']}", headers=handler))["caller_phone"] == (
        "13873801234"
    )
    masked = ok(client.get(f"{API}/work-orders/{anonymous['id']}", headers=handler))
    assert masked["caller_phone"] == "138****1234"
    # ... and linking by number would unmask the anonymous caller through their named orders.
    linked = ok(client.get(f"{API}/work-orders/{anonymous['id']}/linked", headers=handler))
    assert linked == []


def test_confidential_orders_are_for_the_assignee_and_supervisors_only(
    client: TestClient, db: Backend, session: Session
) -> None:
    supervisor, operator, handler = (db.headers[u] for u in ("supervisor", "operator", "handler"))
    order = create(client, supervisor, confidential=True, summary="举报单位违法用工")
    oid = order["id"]
    # Dispatching a confidential order needs a named handler of the target unit.
    unit = db.units["双峰县总工会"]
    refused = act(client, supervisor, oid, "dispatch", org_unit_id=unit)
    assert refused.status_code == 422
    ok(act(client, supervisor, oid, "dispatch", org_unit_id=unit, assignee_id=db.users["handler"]))

    assert client.get(f"{API}/work-orders/{oid}", headers=operator).status_code == 404
    assert client.get(f"{API}/work-orders/{oid}", headers=db.headers["viewer"]).status_code == 404
    assert oid not in {
        o["id"] for o in ok(client.get(f"{API}/work-orders", headers=operator))["items"]
    }
    assert (
        ok(client.get(f"{API}/work-orders/{oid}", headers=handler))["summary"] == "举报单位违法用工"
    )
    ok(client.get(f"{API}/work-orders/{oid}/events", headers=supervisor))
    listed = ok(client.get(f"{API}/work-orders", headers=supervisor))["items"]
    assert [o["summary"] for o in listed if o["id"] == oid] == ["（保密）"]

    entries = session.exec(select(AuditLog).order_by(AuditLog.id)).all()  # type: ignore[arg-type]
    assert [(e.user_id, e.action, e.object_id, e.data["what"]) for e in entries] == [
        (db.users["handler"], AuditAction.VIEW_CONFIDENTIAL_ORDER, str(oid), "order"),
        (db.users["supervisor"], AuditAction.VIEW_CONFIDENTIAL_ORDER, str(oid), "timeline"),
    ]
    # Knowing its call id does not open it either.
    call = {"call_id": "confidential-call", "caller": "13873801234"}
    made = client.post(f"{API}/work-orders/from-call", headers=supervisor, json=call)
    ok(
        client.patch(
            f"{API}/work-orders/{made.json()['id']}",
            headers=supervisor,
            json={"confidential": True},
        )
    )
    again = client.post(f"{API}/work-orders/from-call", headers=operator, json=call)
    assert again.status_code == 409
    assert "举报" not in again.text and "number" not in again.json()
    log = ok(client.get(f"{API}/audit-log", headers=db.headers["admin"]))
    assert len(log) == 2
    assert client.get(f"{API}/audit-log", headers=operator).status_code == 403


def test_a_city_supervisor_would_see_only_their_city(client: TestClient, db: Backend) -> None:
    admin = db.headers["admin"]
    created = client.post(
        f"{API}/users",
        headers=admin,
        json={
            "username": f"loudi_sup_{db.name}",
            "display_name": "娄底值班长",
            "role": "supervisor",
            "org_unit_id": db.units["娄底市总工会"],
            "password": "loudi supervisor password",
        },
    )
    ok(created, 201)
    login = client.post(
        f"{API}/auth/login",
        data={"username": f"loudi_sup_{db.name}", "password": "loudi supervisor password"},
    )
    headers = {"Authorization": f"Bearer {ok(login)['access_token']}"}
    loudi = dispatched(client, db, "双峰县总工会")
    changsha = dispatched(client, db, "长沙市总工会")
    unassigned = create(client, db.headers["operator"], caller_phone="13800138000")
    listed = {o["id"] for o in ok(client.get(f"{API}/work-orders", headers=headers))["items"]}
    assert listed == {loudi["id"]}
    assert {changsha["id"], unassigned["id"]} <= {
        o["id"]
        for o in ok(client.get(f"{API}/work-orders", headers=db.headers["supervisor"]))["items"]
    }
    # Redispatching out of Loudi is beyond a Loudi supervisor.
    ok(act(client, db.headers["handler"], loudi["id"], "return_order", reason="不属本县"))
    outside = act(client, headers, loudi["id"], "redispatch", org_unit_id=db.units["长沙市总工会"])
    assert outside.status_code == 403


def test_a_lawyer_keeps_sight_of_the_orders_they_took(client: TestClient, db: Backend) -> None:
    lawyer = db.headers["lawyer"]
    taken = create(client, lawyer, category="legal_consultation", summary="咨询工伤认定")
    other = create(client, db.headers["operator"], category="legal_consultation")
    assert ok(client.get(f"{API}/work-orders/{taken['id']}", headers=lawyer))["id"] == taken["id"]
    assert client.get(f"{API}/work-orders/{other['id']}", headers=lawyer).status_code == 404
    # Dispatched to the provincial federation itself, the duty lawyer signs and replies.
    root = db.units["湖南省总工会"]
    ok(act(client, db.headers["operator"], other["id"], "dispatch", org_unit_id=root))
    ok(act(client, lawyer, other["id"], "sign"))
    replied = ok(
        act(client, lawyer, other["id"], "reply", text="告知申请工伤认定的时限", outcome="answered")
    )
    assert (replied["status"], replied["assignee_id"]) == ("replied", db.users["lawyer"])
