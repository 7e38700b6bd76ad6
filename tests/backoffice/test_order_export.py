"""CSV export of the order list: filters and search, masking by role, Excel's BOM, formulas."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient

from backoffice.services.order_export import COLUMNS, safe_cell
from tests.backoffice.conftest import Backend
from tests.backoffice.helpers import API, act, create, ok

pytestmark = pytest.mark.integration
EXPORT = f"{API}/work-orders.csv"


def rows(client: TestClient, headers: dict[str, str], **params: object) -> list[dict[str, str]]:
    response = client.get(EXPORT, headers=headers, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")  # Excel reads UTF-8 only with the mark
    return list(csv.DictReader(io.StringIO(body[1:])))


@pytest.mark.unit
def test_formula_cells_are_defused() -> None:
    for risky in ("=1+1", "+86 138", "-2", "@SUM(A1)", "\t=x", "\r=x"):
        assert safe_cell(risky) == "'" + risky
    for plain in ("欠薪", "13873801234", "a=b", "", "'quoted"):
        assert safe_cell(plain) == plain


def test_the_export_has_the_lists_orders_and_columns(client: TestClient, db: Backend) -> None:
    op = db.headers["operator"]
    first = create(client, op, caller_name="张三", employer_name="宏达建筑", summary="欠薪三个月")
    second = create(client, op, summary="工伤认定", category="work_injury")
    ok(act(client, op, first["id"], "dispatch", org_unit_id=db.units["双峰县总工会"]))
    got = rows(client, op)
    assert list(got[0]) == [zh for _, zh, _ in COLUMNS]
    assert [r["工单编号"] for r in got] == [second["number"], first["number"]]  # newest first
    one = got[1]
    assert (one["来电人"], one["联系电话"], one["用人单位"]) == ("张三", "13873801234", "宏达建筑")
    where = (one["状态"], one["类别"], one["承办单位"])
    assert where == ("dispatched", "wage_arrears", "双峰县总工会")
    assert one["签收期限"] and one["期限状态"] == "ok"
    english = rows(client, op, lang="en")
    assert list(english[0])[:3] == ["Number", "Received", "Channel"]
    # The list's filters and search apply.
    assert [r["工单编号"] for r in rows(client, op, status="dispatched")] == [first["number"]]
    assert [r["工单编号"] for r in rows(client, op, q="工伤")] == [second["number"]]
    assert [r["工单编号"] for r in rows(client, op, category="other")] == []


def test_the_export_masks_and_withholds_as_the_list_does(client: TestClient, db: Backend) -> None:
    op = db.headers["operator"]
    create(client, op, summary="来电人13873801234反映欠薪")
    create(client, op, summary="举报单位负责人", confidential=True, employer_name="某公司")
    viewer = rows(client, db.headers["viewer"])
    assert len(viewer) == 1  # the confidential order is not the viewer's to see
    assert viewer[0]["联系电话"] == "138****1234"
    assert "13873801234" not in viewer[0]["诉求摘要"]
    supervisor = rows(client, db.headers["supervisor"])
    secret = next(r for r in supervisor if r["保密"] == "1")
    assert secret["诉求摘要"] == "（保密）" and secret["用人单位"] == "（保密）"
    assert supervisor[1]["联系电话"] == "13873801234"
    # A handler outside the orders' jurisdiction exports nothing at all.
    assert rows(client, db.headers["handler"]) == []


def test_hostile_text_cannot_become_a_formula(client: TestClient, db: Backend) -> None:
    op = db.headers["operator"]
    create(client, op, summary='=HYPERLINK("http://x","点我")', caller_name="@张三",
           employer_name="-1+1", caller_phone="+44 20 7946 0958")  # fmt: skip
    got = rows(client, op)[0]
    assert got["诉求摘要"] == "'" + '=HYPERLINK("http://x","点我")'
    assert got["来电人"] == "'@张三" and got["用人单位"] == "'-1+1"
    assert got["联系电话"] == "'+442079460958"


def test_a_long_export_streams_every_page(client: TestClient, db: Backend) -> None:
    op = db.headers["operator"]
    made = [create(client, op, summary=f"第{i}件")["number"] for i in range(105)]
    got = rows(client, op)
    assert [r["工单编号"] for r in got] == made[::-1]  # across two internal pages, no repeats


def test_bad_filters_are_a_422_before_any_csv(client: TestClient, db: Backend) -> None:
    op = db.headers["operator"]
    for params in ({"org_unit_id": 999999}, {"q": "x" * 201}, {"status": "lost"}, {"lang": "fr"}):
        response = client.get(EXPORT, headers=op, params=params)
        assert response.status_code == 422, params
        assert response.headers["content-type"] == "application/json"
    assert client.get(EXPORT).status_code == 401
