"""Work orders over the REST API: taking them in, the whole lifecycle, refusals as 4xx."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.backoffice.conftest import Backend
from tests.backoffice.helpers import (
    API,
    BEIJING_MOBILE,
    CHANGSHA_MOBILE,
    act,
    create,
    credit_code,
    ok,
)

pytestmark = pytest.mark.integration


def test_full_lifecycle_with_an_unsatisfied_return_visit(client: TestClient, db: Backend) -> None:
    operator, handler, supervisor = (db.headers[u] for u in ("operator", "handler", "supervisor"))
    order = create(client, operator, summary="工地拖欠工资三个月", employer_name="娄底某建筑公司")
    oid = order["id"]
    assert order["status"] == "accepted"
    assert order["number"].startswith("GH") and len(order["number"]) == 16
    assert order["org_unit_id"] == db.units["娄底市总工会"]  # proposed from the mobile number

    sf = db.units["双峰县总工会"]
    steps: list[tuple[dict[str, str], str, dict[str, Any], str]] = [
        (operator, "dispatch", {"org_unit_id": sf, "note": "请双峰县核实"}, "dispatched"),
        (handler, "sign", {}, "signed"),
        (handler, "start_handling", {}, "handling"),
        (handler, "reply", {"text": "已约谈企业"}, "replied"),
        (operator, "record_feedback", {"text": "来电人称尚未到账"}, "feedback"),
        (operator, "return_visit", {"satisfaction": 2, "note": "不满意"}, "reopened"),
        (supervisor, "redispatch", {"org_unit_id": sf}, "dispatched"),
        (handler, "sign", {}, "signed"),
        (
            handler,
            "reply",
            {"text": "工资已发放", "outcome": "wages_recovered", "wages_recovered": "36000.50"},
            "replied",
        ),
        (operator, "return_visit", {"satisfaction": None}, "return_visit"),  # not reached
        (operator, "return_visit", {"satisfaction": 5}, "closed"),
    ]
    for headers, action, body, status in steps:
        state = ok(act(client, headers, oid, action, **body))
        assert state["status"] == status, (action, state)
        if status == "dispatched":
            assert state["sign_due"] and state["reply_due"]
            assert state["sign_due"].endswith("Z")
    assert state["satisfaction"] == 5
    assert state["reopen_count"] == 1
    assert (state["outcome"], state["wages_recovered"]) == ("wages_recovered", "36000.50")
    assert state["assignee_id"] == db.users["handler"]  # who signed for it
    assert state["sign_due"] is None and state["reply_due"] is None
    assert state["allowed_actions"] == []  # an operator cannot reopen

    events = ok(client.get(f"{API}/work-orders/{oid}/events", headers=supervisor))
    assert [e["action"] for e in events] == ["create"] + [step[1] for step in steps]
    assert [e["to_status"] for e in events][1:] == [step[3] for step in steps]
    assert events[1]["note"] == "请双峰县核实"
    assert events[1]["data"]["org_unit_id"] == sf
    assert events[2]["actor_name"] == "双峰县承办人" and events[2]["actor_role"] == "handler"
    assert events[0]["data"]["proposed_from_region"] == "湖南省娄底市"

    reopened = ok(act(client, supervisor, oid, "reopen", reason="来电人再次投诉"))
    assert reopened["status"] == "reopened"


def test_an_illegal_transition_is_409_with_the_lifecycle_message(
    client: TestClient, db: Backend
) -> None:
    order = create(client, db.headers["operator"])
    ok(act(client, db.headers["operator"], order["id"], "dispatch"))  # to the proposed unit
    response = act(client, db.headers["supervisor"], order["id"], "reopen", reason="再查")
    assert response.status_code == 409
    assert response.json() == {
        "detail": "cannot reopen a work order that is 'dispatched': "
        "only a closed work order can be reopened"
    }
    again = act(client, db.headers["operator"], order["id"], "dispatch")
    assert again.status_code == 409
    assert "use redispatch" in again.json()["detail"]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"category": "wage_theft"}, "category"),
        ({"channel": "fax"}, "channel"),
        ({"caller_phone": "not a number"}, "phone"),
        ({"employer_credit_code": "91431300MA4L000010"}, "check character"),
        ({"employer_credit_code": "short"}, "18 characters"),
        ({"summary": "null\x00byte"}, "NUL"),
        ({"summary": "x" * 20_001}, "at most"),
        ({"org_unit_id": 2**31}, "less than or equal"),
        ({"urgent": "very"}, "boolean"),
        ({"surprise": 1}, "Extra inputs"),
    ],
)
def test_invalid_orders_are_422(
    client: TestClient, db: Backend, body: dict[str, Any], fragment: str
) -> None:
    full = {"caller_phone": "13873801234", "category": "other", **body}
    response = client.post(f"{API}/work-orders", headers=db.headers["operator"], json=full)
    assert response.status_code == 422, response.text
    assert fragment in response.text


def test_references_to_missing_records_are_refused(client: TestClient, db: Backend) -> None:
    operator = db.headers["operator"]
    body = {"caller_phone": "13873801234", "org_unit_id": 99999}
    response = client.post(f"{API}/work-orders", headers=operator, json=body)
    assert (response.status_code, response.json()) == (
        422,
        {"detail": "org unit 99999 does not exist"},
    )
    assert client.get(f"{API}/work-orders/99999", headers=operator).status_code == 404
    assert act(client, operator, 99999, "close").status_code == 404
    assert client.get(f"{API}/work-orders/{2**31}", headers=operator).status_code == 422
    assert client.get(f"{API}/org-units/99999", headers=operator).status_code == 404
    assert (
        client.get(f"{API}/work-orders/by-number/GH20990101000001", headers=operator).status_code
        == 404
    )
    assert client.get(f"{API}/work-orders/by-number/garbage", headers=operator).status_code == 404


@pytest.mark.parametrize(
    ("action", "body", "status", "fragment"),
    [
        ("fly", {}, 422, "Input should be"),
        ("dispatch", {"org_unit_id": 99999}, 422, "does not exist"),
        ("dispatch", {"satisfaction": 3}, 422, "does not take satisfaction"),
        ("mark_urgent", {}, 422, "mark_urgent needs reason"),
        ("mark_urgent", {"reason": "   "}, 422, "must not be empty"),
        ("close", {"note": 5}, 422, "string"),
        ("close", {"note": "a", "extra": 1}, 422, "Extra inputs"),
    ],
)
def test_invalid_actions_are_422(
    client: TestClient, db: Backend, action: str, body: dict[str, Any], status: int, fragment: str
) -> None:
    order = create(client, db.headers["operator"])
    response = act(client, db.headers["supervisor"], order["id"], action, **body)
    assert response.status_code == status, response.text
    assert fragment in response.text


def test_reply_outcome_needs_its_amount(client: TestClient, db: Backend) -> None:
    order = create(client, db.headers["operator"])
    oid = order["id"]
    ok(act(client, db.headers["operator"], oid, "dispatch", org_unit_id=db.units["双峰县总工会"]))
    ok(act(client, db.headers["handler"], oid, "sign"))
    for body in (
        {"text": "x", "outcome": "wages_recovered"},
        {"text": "x", "outcome": "mediated", "wages_recovered": "10"},
        {"text": "x", "outcome": "wages_recovered", "wages_recovered": "10.001"},
        {"text": "x", "outcome": "wages_recovered", "wages_recovered": "-1"},
        {"text": "x", "outcome": "wages_recovered", "wages_recovered": "NaN"},
    ):
        assert act(client, db.headers["handler"], oid, "reply", **body).status_code == 422, body
    assert act(client, db.headers["handler"], oid, "reply").status_code == 422  # no text


def test_jurisdiction_is_proposed_from_the_callers_number(client: TestClient, db: Backend) -> None:
    operator = db.headers["operator"]
    assert create(client, operator)["org_unit_id"] == db.units["娄底市总工会"]
    assert (
        create(client, operator, caller_phone=CHANGSHA_MOBILE)["org_unit_id"]
        == db.units["长沙市总工会"]
    )
    assert (
        create(client, operator, caller_phone="0743-8221234")["org_unit_id"]
        == db.units["湘西州总工会"]
    )
    assert create(client, operator, caller_phone=BEIJING_MOBILE)["org_unit_id"] is None
    # An area code shared by three cities: the provincial centre decides.
    shared = create(client, operator, caller_phone="0731-88881234")
    assert shared["org_unit_id"] == db.units["湖南省总工会"]
    chosen = create(client, operator, org_unit_id=db.units["新化县总工会"])
    assert chosen["org_unit_id"] == db.units["新化县总工会"]
    # The first dispatch goes to the proposal unless told otherwise.
    order = create(client, operator, caller_phone=CHANGSHA_MOBILE)
    assert (
        ok(act(client, operator, order["id"], "dispatch"))["org_unit_id"]
        == db.units["长沙市总工会"]
    )
    nowhere = create(client, operator, caller_phone=BEIJING_MOBILE)
    assert act(client, operator, nowhere["id"], "dispatch").status_code == 422


def test_phone_numbers_are_stored_in_one_form(client: TestClient, db: Backend) -> None:
    operator = db.headers["operator"]
    for typed in ("+86 138-7380-1234", "0086 13873801234", " 138 7380 1234 "):
        assert create(client, operator, caller_phone=typed)["caller_phone"] == "13873801234"
    assert create(client, operator, caller_phone="0738-8251234")["caller_phone"] == "07388251234"


def test_orders_of_the_same_caller_or_employer_are_linked(client: TestClient, db: Backend) -> None:
    operator = db.headers["operator"]
    code = credit_code()
    first = create(client, operator, employer_name="甲公司", employer_credit_code=code)
    same_phone = create(client, operator, employer_name="乙公司")
    same_code = create(client, operator, caller_phone=CHANGSHA_MOBILE, employer_credit_code=code)
    same_name = create(client, operator, caller_phone=BEIJING_MOBILE, employer_name="甲公司")
    create(client, operator, caller_phone=CHANGSHA_MOBILE, employer_name="丙公司")  # unrelated
    linked = ok(client.get(f"{API}/work-orders/{first['id']}/linked", headers=operator))
    assert [o["id"] for o in linked] == [same_name["id"], same_code["id"], same_phone["id"]]


def test_channels_12345_and_web(client: TestClient, db: Backend) -> None:
    transfer = create(client, db.headers["operator"], channel="12345", summary="12345转办：欠薪")
    assert transfer["channel"] == "12345"
    form = {"caller_phone": "13873801234", "caller_name": "李师傅", "summary": "公司不签劳动合同"}
    receipt = ok(client.post(f"{API}/public/work-orders", json=form), 201)
    assert receipt["number"].startswith("GH")
    found = ok(
        client.get(
            f"{API}/work-orders/by-number/{receipt['number'][2:]}", headers=db.headers["operator"]
        )
    )
    assert (found["channel"], found["caller_name"], found["status"]) == (
        "web",
        "李师傅",
        "accepted",
    )
    events = ok(
        client.get(f"{API}/work-orders/{found['id']}/events", headers=db.headers["operator"])
    )
    assert (events[0]["actor_name"], events[0]["actor_id"]) == ("web form", None)
    for _ in range(4):
        ok(client.post(f"{API}/public/work-orders", json=form), 201)
    assert client.post(f"{API}/public/work-orders", json=form).status_code == 429
    assert client.post(f"{API}/public/work-orders", json={"summary": "x"}).status_code == 422


def test_orders_from_calls_are_idempotent_by_call_id(client: TestClient, db: Backend) -> None:
    event = {
        "call_id": "1763900000.42",
        "caller": "+8613873801234",
        "category": "work_injury",
        "ivr_path": [1, 2],
    }
    first = client.post(f"{API}/work-orders/from-call", headers=db.headers["operator"], json=event)
    again = client.post(f"{API}/work-orders/from-call", headers=db.headers["operator"], json=event)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["caller_phone"] == "13873801234"
    assert first.json()["category"] == "work_injury"
    typed = {"caller_phone": "13873801234", "call_id": "1763900000.42"}
    same = client.post(f"{API}/work-orders", headers=db.headers["operator"], json=typed)
    assert (same.status_code, same.json()["id"]) == (200, first.json()["id"])
    viewer = client.post(f"{API}/work-orders/from-call", headers=db.headers["viewer"], json=event)
    assert viewer.status_code == 403


def test_centre_corrections_recompute_deadlines(client: TestClient, db: Backend) -> None:
    operator = db.headers["operator"]
    order = create(client, operator, category="wage_arrears")
    before = ok(act(client, operator, order["id"], "dispatch"))
    after = ok(
        client.patch(
            f"{API}/work-orders/{order['id']}",
            headers=operator,
            json={"category": "legal_consultation", "summary": "咨询加班费"},
        )
    )
    assert after["reply_due"] < before["reply_due"]  # 2 working days instead of 5
    assert after["summary"] == "咨询加班费"
    events = ok(client.get(f"{API}/work-orders/{order['id']}/events", headers=operator))
    assert events[-1]["action"] == "update"
    assert events[-1]["data"] == {"fields": ["category", "summary"]}
    assert (
        client.patch(
            f"{API}/work-orders/{order['id']}", headers=db.headers["handler"], json={"summary": "x"}
        ).status_code
        == 403
    )
    assert (
        client.patch(
            f"{API}/work-orders/{order['id']}", headers=operator, json={"status": "closed"}
        ).status_code
        == 422
    )


def test_org_units_are_listed_as_a_tree(client: TestClient, db: Backend) -> None:
    units = ok(client.get(f"{API}/org-units", headers=db.headers["viewer"]))
    assert units[0]["name"] == "湖南省总工会" and units[0]["level"] == "province"
    loudi = db.units["娄底市总工会"]
    counties = ok(
        client.get(f"{API}/org-units", params={"parent_id": loudi}, headers=db.headers["viewer"])
    )
    assert sorted(u["name"] for u in counties) == sorted(
        ["娄星区总工会", "双峰县总工会", "新化县总工会", "冷水江市总工会", "涟源市总工会"]
    )
    body = {"parent_id": db.units["荷叶镇工会服务站"], "name": "村工会"}
    assert (
        client.post(f"{API}/org-units", headers=db.headers["admin"], json=body).status_code == 422
    )
    body = {
        "parent_id": db.units["新化县总工会"],
        "name": "上梅街道工会服务站",
        "region_name": "上梅街道",
    }
    assert (
        client.post(f"{API}/org-units", headers=db.headers["operator"], json=body).status_code
        == 403
    )
