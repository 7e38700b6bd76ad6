"""Full-text search over work orders (GET /work-orders?q=) on SQLite FTS5 and PostgreSQL pg_trgm."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, text
from sqlmodel import Session

from backoffice import access, search
from backoffice.access import viewer_of
from backoffice.models import CallTranscript, User, WorkOrder, WorkOrderEvent
from backoffice.services import order_lists, transcripts
from backoffice.services import work_orders as orders
from backoffice.services.order_lists import Where
from tests.backoffice.conftest import Backend
from tests.backoffice.helpers import (
    API,
    act,
    bound_values,
    branches,
    create,
    credit_code,
    explain,
    ok,
    statements,
    user,
)

pytestmark = pytest.mark.integration

PG_TEXT_INDEXES = ("ix_work_order_text_trgm", "ix_work_order_text_grams")
EMPLOYER = "双峰县宏达建筑有限公司"


def found(client: TestClient, headers: dict[str, str], q: str, **params: Any) -> list[int]:
    body = ok(client.get(f"{API}/work-orders", headers=headers, params={"q": q, **params}))
    return [item["id"] for item in body["items"]]


def dispatched(client: TestClient, db: Backend, unit: str, **fields: Any) -> dict[str, Any]:
    order = create(client, db.headers["operator"], **fields)
    return ok(  # type: ignore[no-any-return]
        act(client, db.headers["operator"], order["id"], "dispatch", org_unit_id=db.units[unit])
    )


def test_chinese_text_is_found_without_word_segmentation(client: TestClient, db: Backend) -> None:
    op = db.headers["operator"]
    wages = create(client, op, summary="工地拖欠三个月工资共两万元", employer_name=EMPLOYER,
                   caller_name="李四")  # fmt: skip
    injury = create(client, op, summary="搬运时摔伤，单位不认定工伤", category="work_injury")
    assert found(client, op, "宏达建筑") == [wages["id"]]  # inside the employer's name
    assert found(client, op, "三个月工资") == [wages["id"]]
    assert found(client, op, "认定工伤") == [injury["id"]]
    assert found(client, op, "拖欠 两万元") == [wages["id"]]  # every word must occur
    assert found(client, op, "拖欠 工伤") == []
    assert found(client, op, "李四") == [wages["id"]]  # two characters: the LIKE fallback
    assert found(client, op, "伤") == [injury["id"]]
    assert found(client, op, "不存在的单位") == []


def test_digits_find_numbers_phones_and_credit_codes(client: TestClient, db: Backend) -> None:
    op = db.headers["operator"]
    first = create(client, op, caller_phone="13873801234")
    second = create(client, op, caller_phone="0738-8251234", employer_credit_code=credit_code())
    assert found(client, op, first["number"]) == [first["id"]]
    assert found(client, op, first["number"][2:]) == [first["id"]]  # the 14 digits callers type
    assert found(client, op, "3873801") == [first["id"]]  # part of the caller's number
    assert found(client, op, "0738-825-1234") == [second["id"]]  # typed with separators
    assert found(client, op, "１３８７３８０") == [first["id"]]  # full-width digits
    assert found(client, op, "MA4L") == [second["id"]]
    assert found(client, op, "gh" + first["number"][2:]) == [first["id"]]  # case-blind
    both = found(client, op, first["number"][:10])  # the day's prefix: both orders
    assert both == [second["id"], first["id"]]


def test_a_whole_phone_number_is_looked_up_by_the_callers_number_index(
    client: TestClient, db: Backend, session: Session
) -> None:
    # Stored whole, in national form: on PostgreSQL the caller-number index finds it (0.6 ms
    # against 2.4 through its trigrams on 1M orders); text that quotes it still counts.
    op = db.headers["operator"]
    caller = create(client, op, caller_phone="13873809876")
    quoting = create(client, op, summary="老板电话13873809876，拖欠工资")
    other = create(client, op, caller_phone="13873809877")
    assert found(client, op, "13873809876") == [quoting["id"], caller["id"]]
    assert found(client, op, "138-7380-9876") == [quoting["id"], caller["id"]]
    assert found(client, op, "1387380987") == [other["id"], quoting["id"], caller["id"]]
    assert caller["id"] not in found(client, db.headers["viewer"], "13873809876")  # masked
    assert search.whole_phone("13873809876") == "13873809876"
    assert search.whole_phone("07388251234") == "07388251234"
    assert search.whole_phone("19402521500") == "19402521500"  # a caller ID's unassigned block
    assert search.whole_phone("8251234") is None  # without its area code: part of a number
    assert [search.whole_phone(t) for t in ("1387380987", "+8613873809876", "12351")] == [None] * 3
    operator = user(session, "operator")
    seen = statements(db, lambda: search.search_orders(session, operator, "13873809876"))
    statement, params = seen[0]
    if db.name != "postgresql":
        # The caller's index, then the words table (a table of its own since revision 0012,
        # so the digits of every order's number and phone are not in its doclists).
        assert len(seen) == 2, seen
        steps = explain(session, db, statement, params)
        assert any("USING INDEX ix_work_order_caller_phone" in step for step in steps), steps
        statement, params = seen[1]
        assert "work_order_search MATCH" in statement, statement
        steps = explain(session, db, statement, params)
        assert steps[0].startswith("SCAN work_order_search VIRTUAL TABLE"), steps
        assert not any("TEMP B-TREE" in step for step in steps), steps
        return
    assert "work_order.caller_phone = " in statement and "work_order.number LIKE" not in statement
    # A handful of test orders is read newest first: without that path the plan shows the
    # index each condition would take on a large table.
    session.connection().exec_driver_sql("SET enable_indexscan = off")
    try:
        plan = "\n".join(explain(session, db, statement, params))
    finally:
        session.connection().exec_driver_sql("RESET enable_indexscan")
    assert "Bitmap Index Scan on ix_work_order_caller_phone  " in plan, plan
    assert "ix_work_order_caller_phone_trgm" not in plan, plan


def test_part_of_a_number_is_looked_up_in_the_numbers_and_in_the_words(
    client: TestClient, db: Backend, session: Session
) -> None:
    op = db.headers["operator"]
    calling = create(client, op, caller_phone="13873804321")
    quoting = create(client, op, summary="欠薪，老板手机尾号3873804321")
    both = create(client, op, caller_phone="13873804321", summary="尾号3873804321 包工头")
    assert found(client, op, "3873804321") == [both["id"], quoting["id"], calling["id"]]
    assert found(client, op, "3873804321 包工头") == [both["id"]]  # every word must occur
    assert found(client, op, "804321 尾号") == [both["id"], quoting["id"]]
    if db.name == "postgresql":
        return
    operator = user(session, "operator")
    seen = statements(db, lambda: search.search_orders(session, operator, "3873804321"))
    assert [st.count("MATCH") for st, _ in seen] == [1, 1], seen
    assert "work_order_numbers MATCH" in seen[0][0] and "work_order_search MATCH" in seen[1][0]
    for statement, params in seen:
        steps = explain(session, db, statement, params)
        assert "VIRTUAL TABLE INDEX" in steps[0], steps
        assert not any("TEMP B-TREE" in step for step in steps), steps


def test_a_whole_order_number_is_looked_up_by_its_index(
    client: TestClient, db: Backend, session: Session
) -> None:
    # As trigrams a number matched its whole day and every same sequence (42 ms a search
    # on 1M orders); it is the order's name, found through the number's unique index.
    op = db.headers["operator"]
    order = create(client, op, caller_phone="13873801234")
    quoting = create(client, op, summary=f"来电询问工单{order['number']}的进度")
    assert found(client, op, order["number"]) == [order["id"]]  # not the order quoting it
    assert found(client, op, "ｇｈ" + order["number"][2:]) == [order["id"]]  # full-width, lower
    assert found(client, op, f"{order['number'][2:]} 3873801") == [order["id"]]
    assert found(client, op, f"{order['number']} 进度") == []  # every word must occur
    assert found(client, op, order["number"][:12]) == [quoting["id"], order["id"]]  # a part
    operator = user(session, "operator")
    seen = statements(db, lambda: search.search_orders(session, operator, order["number"]))
    [(statement, params)] = seen
    assert "work_order.number = " in statement, statement
    assert "work_order_search" not in statement and "ESCAPE" not in statement.upper(), statement
    assert order["number"] in bound_values(params), params


def test_postgresql_tests_caseless_terms_with_like(
    client: TestClient, db: Backend, session: Session
) -> None:
    # ILIKE lowercases every text it tests (8x slower on the newest-orders probe); Chinese
    # and digits have no case, so LIKE finds the same orders. Latin letters keep ILIKE.
    op = db.headers["operator"]
    order = create(client, op, summary="BOSS跑路，宏达建筑欠薪", employer_name="长沙市宏达建筑公司")
    operator = user(session, "operator")
    for q, like in (("宏达建筑", "LIKE"), ("3873801", "LIKE"), ("boss跑路", "ILIKE")):
        assert found(client, op, q) == [order["id"]], q
        seen = statements(db, lambda q=q: search.search_orders(session, operator, q))
        if db.name != "postgresql":
            continue
        searched = [st for st, _ in seen if "ESCAPE" in st]
        assert searched, seen
        for statement in searched:
            assert f" {like} " in statement and ("ILIKE" in statement) == (like == "ILIKE"), q


def test_a_long_chinese_term_matches_whole_though_the_index_is_asked_its_start(
    client: TestClient, db: Backend, session: Session
) -> None:
    # PostgreSQL asks the trigram index for the first six characters (a name's tail, 有限公司,
    # is in most orders) and tests the whole term on what it hands over.
    op = db.headers["operator"]
    labour = create(client, op, summary="欠薪", employer_name="株洲联鸿建设劳务有限公司")
    works = create(client, op, summary="欠薪", employer_name="株洲联鸿建设工程有限公司")
    apart = create(client, op, summary="株洲联鸿建设的工地，劳务有限公司欠薪", employer_name="")
    called = orders.create_from_call(
        session, {"call_id": "long-term@10.0.0.1", "caller": "13873801234"}
    )
    spoken = "我在株洲联鸿建设劳务有限公司干活"
    transcripts.store_transcript(
        session, transcripts.TranscriptRecord("long-term@10.0.0.1", "zh", [], spoken, 5.0, "vosk")
    )
    assert found(client, op, "株洲联鸿建设劳务有限公司") == [called.id, labour["id"]]
    assert found(client, op, "株洲联鸿建设工程有限公司") == [works["id"]]
    assert found(client, op, "株洲联鸿建设") == [called.id, apart["id"], works["id"], labour["id"]]
    assert found(client, op, "联鸿建设劳务有限公司 欠薪") == [labour["id"]]
    if db.name != "postgresql":
        return
    operator = user(session, "operator")
    seen = statements(
        db, lambda: search.search_orders(session, operator, "株洲联鸿建设劳务有限公司")
    )
    values = [v for _, params in seen for v in bound_values(params)]
    assert "%株洲联鸿建设%" in values and "株洲联鸿建设劳务有限公司" in values, values
    assert not any("劳务" in v and "%" in v for v in values), values
    statement, params = seen[0]
    plan = "\n".join(explain(session, db, statement, params))
    assert "ix_work_order_text_trgm" in plan and "strpos" in plan, plan


def test_postgresql_builds_a_searchs_statements_once_per_shape(
    client: TestClient, db: Backend, session: Session
) -> None:
    op = db.headers["operator"]
    hongda = create(client, op, summary="宏达建筑欠薪", employer_name="长沙宏达建筑公司")
    liantai = create(client, op, summary="联泰物业欠薪", employer_name="长沙联泰物业公司")
    boss = create(client, op, summary="BOSS跑路", employer_name="")
    # Same shape, other values: each finds its own, on the first page and after a cursor.
    assert found(client, op, "宏达建筑") == [hongda["id"]]
    assert found(client, op, "联泰物业") == [liantai["id"]]
    assert found(client, op, "欠薪 长沙", limit=1) == [liantai["id"]]
    first = ok(client.get(f"{API}/work-orders", headers=op, params={"q": "欠薪 长沙", "limit": 1}))
    after = {"q": "欠薪 长沙", "limit": 1, "cursor": first["next_cursor"]}
    assert [
        i["id"] for i in ok(client.get(f"{API}/work-orders", headers=op, params=after))["items"]
    ] == [hongda["id"]]
    assert found(client, op, "boss") == [boss["id"]]
    if db.name != "postgresql":
        return
    viewer = viewer_of(session, user(session, "operator"))
    plans = {q: search.plan(session, search.parse_query(q), viewer) for q in  # type: ignore[arg-type]
             ("宏达建筑", "联泰物业", "boss", "宏达建筑有限公司")}  # fmt: skip
    same, other = plans["宏达建筑"], plans["联泰物业"]
    assert same.key == other.key and same.params != other.params
    assert same.clauses is other.clauses  # the plan itself is built once
    built = [order_lists._search_statement(p, Where(access.visibility(viewer)), (), False, 21)
             for p in (same, other)]  # fmt: skip
    assert built[0] is built[1]
    # ILIKE for letters with case, the index asked six characters of a long Chinese word.
    assert len({p.key for p in plans.values()}) == 3
    assert plans["宏达建筑有限公司"].params["q0w"] == "%宏达建筑有限%"


def test_the_calls_transcript_is_searched_and_kept_in_step(
    client: TestClient, db: Backend, session: Session
) -> None:
    op = db.headers["operator"]
    call_id = "search-call-1@10.0.0.1"
    session.exec(delete(CallTranscript).where(CallTranscript.call_id == call_id))  # type: ignore[call-overload]
    session.commit()
    order = orders.create_from_call(session, {"call_id": call_id, "caller": "13873801234"})
    assert found(client, op, "包工头跑路") == []
    record = transcripts.TranscriptRecord(call_id, "zh", [], "老板说包工头跑路了", 12.0, "vosk")
    transcripts.store_transcript(session, record)
    assert found(client, op, "包工头跑路") == [order.id]
    transcripts.store_transcript(session, transcripts.TranscriptRecord(
        call_id, "zh", [], "工资已经结清", 9.0, "vosk"))  # fmt: skip
    assert found(client, op, "包工头跑路") == []
    assert found(client, op, "已经结清") == [order.id]
    session.exec(delete(CallTranscript).where(CallTranscript.call_id == call_id))  # type: ignore[call-overload]
    session.commit()
    assert found(client, op, "已经结清") == []


def test_the_index_follows_updates_and_deletes(
    client: TestClient, db: Backend, session: Session
) -> None:
    op = db.headers["operator"]
    order = create(client, op, summary="加班费没有发放")
    other = create(client, op, summary="加班费没有发放")
    changes = {"summary": "社保没有缴纳", "employer_name": "娄底某物流公司"}
    ok(client.patch(f"{API}/work-orders/{order['id']}", headers=op, json=changes))
    assert found(client, op, "加班费") == [other["id"]]
    assert found(client, op, "社保没有") == [order["id"]]
    assert found(client, op, "物流") == [order["id"]]
    # Lifecycle actions rewrite the row too: the order is still found, once.
    ok(act(client, op, order["id"], "dispatch", org_unit_id=db.units["双峰县总工会"]))
    assert found(client, op, "社保没有") == [order["id"]]
    session.exec(delete(WorkOrderEvent).where(WorkOrderEvent.work_order_id == other["id"]))  # type: ignore[call-overload]
    session.exec(delete(WorkOrder).where(WorkOrder.id == other["id"]))  # type: ignore[call-overload]
    session.commit()
    assert found(client, op, "加班费") == []
    if db.name == "sqlite":
        rows = session.exec(text("SELECT rowid FROM work_order_search ORDER BY rowid"))  # type: ignore[call-overload]
        assert [r[0] for r in rows] == [order["id"]]


def test_search_keeps_the_access_rules(client: TestClient, db: Backend) -> None:
    mine = dispatched(client, db, "双峰县总工会", summary="宏达建筑拖欠工资")
    theirs = dispatched(client, db, "新化县总工会", summary="宏达建筑拖欠工资")
    proposed = create(client, db.headers["operator"], summary="宏达建筑拖欠工资",
                      org_unit_id=db.units["双峰县总工会"])  # fmt: skip
    secret = create(client, db.headers["operator"], summary="宏达建筑拖欠工资", confidential=True)
    everyone = [secret["id"], proposed["id"], theirs["id"], mine["id"]]
    assert found(client, db.headers["handler"], "宏达建筑") == [mine["id"]]
    assert found(client, db.headers["supervisor"], "宏达建筑") == everyone
    assert found(client, db.headers["operator"], "宏达建筑") == everyone[1:]  # not confidential
    # Search adds to the filters, it never widens them.
    unit = db.units["新化县总工会"]
    assert found(client, db.headers["supervisor"], "宏达", org_unit_id=unit) == [theirs["id"]]


def test_masked_numbers_cannot_be_searched_for(client: TestClient, db: Backend) -> None:
    phone = "13873805678"
    named = dispatched(client, db, "双峰县总工会", caller_phone=phone, summary=f"回电{phone}")
    anonymous = dispatched(client, db, "双峰县总工会", caller_phone=phone, anonymous=True,
                           summary=f"匿名，回电{phone}")  # fmt: skip
    assert found(client, db.headers["operator"], "3805678") == [anonymous["id"], named["id"]]
    # The handler sees the named caller's number, not the anonymous one's.
    assert found(client, db.headers["handler"], "3805678") == [named["id"]]
    assert found(client, db.headers["handler"], "回电") == [anonymous["id"], named["id"]]
    # A viewer sees every number masked, so no number finds anything but an order number.
    assert found(client, db.headers["viewer"], "3805678") == []
    assert found(client, db.headers["viewer"], "138") == []  # not even the shown prefix
    assert found(client, db.headers["viewer"], named["number"]) == [named["id"]]
    assert found(client, db.headers["viewer"], "匿名") == [anonymous["id"]]


@pytest.mark.parametrize(
    "q",
    ['"', '""', "'", '" OR 1=1 --', "NEAR(宏达 建筑)", "宏达 NEAR/2 建筑", "*", "宏*", "AND",
     "OR NOT", "{number}:1", "number:13", "^宏达", "(", ")", "\\", "%%", "_", "a%b", "-宏达",
     "+", ";", "'; DROP TABLE work_order; --"],
)  # fmt: skip
def test_hostile_queries_are_plain_text(client: TestClient, db: Backend, q: str) -> None:
    op = db.headers["operator"]
    plain = create(client, op, summary="宏达建筑拖欠工资")
    response = client.get(f"{API}/work-orders", headers=op, params={"q": q})
    assert response.status_code == 200, response.text
    # Nothing holds these characters, so nothing matches (an operator would match everything).
    ids = [item["id"] for item in response.json()["items"]]
    assert ids == [], (q, ids, plain["id"])


def test_wildcards_match_only_themselves(client: TestClient, db: Backend) -> None:
    op = db.headers["operator"]
    percent = create(client, op, summary="承诺退还100%押金")
    underscore = create(client, op, summary="合同编号A_17丢失")
    quoted = create(client, op, summary='老板说"下个月再发"')
    create(client, op, summary="普通的欠薪问题")
    assert found(client, op, "%") == [percent["id"]]
    assert found(client, op, "0%押") == [percent["id"]]
    assert found(client, op, "_") == [underscore["id"]]
    assert found(client, op, "A_17") == [underscore["id"]]
    assert found(client, op, '"下个月') == [quoted["id"]]


def test_malformed_queries_are_a_clear_422(client: TestClient, db: Backend) -> None:
    op = db.headers["operator"]
    too_long = client.get(f"{API}/work-orders", headers=op, params={"q": "欠" * 201})
    assert too_long.status_code == 422
    assert too_long.json()["detail"][0]["loc"] == ["query", "q"]
    assert "at most 200 characters" in too_long.json()["detail"][0]["msg"]
    words = " ".join(f"词{i}号" for i in range(9))
    many = client.get(f"{API}/work-orders", headers=op, params={"q": words})
    assert many.status_code == 422
    assert many.json() == {"detail": "search has 9 words; at most 8 are allowed"}
    for bad in ("欠薪\x00", "\x07bell"):
        response = client.get(f"{API}/work-orders", headers=op, params={"q": bad})
        assert response.status_code == 422
        assert response.json() == {"detail": "search text must not contain control characters"}
    blank = create(client, op)
    assert found(client, op, "   ") == [blank["id"]]  # a blank search is no search


def test_search_results_page_by_keyset(client: TestClient, db: Backend) -> None:
    op = db.headers["operator"]
    matching = [create(client, op, summary=f"宏达建筑第{i}次欠薪")["id"] for i in range(5)]
    create(client, op, summary="别的事情")
    seen: list[int] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"q": "宏达建筑", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = ok(client.get(f"{API}/work-orders", headers=op, params=params))
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(matching, reverse=True)


def test_the_service_function_and_its_index(db: Backend, session: Session) -> None:
    operator = user(session, "operator")
    order = orders.create(
        session,
        orders.WorkOrderCreate(caller_phone="13873801234", summary="宏达建筑欠薪"),
        operator,
    ).order
    page = search.search_orders(session, operator, "宏达建筑", limit=5)
    assert [o.id for o in page.items] == [order.id] and page.next_cursor is None
    # An operator sees every number; a handler has them masked on anonymous orders only, a
    # rule per row: both searches must reach the text index, not read the orders.
    for actor in (operator, user(session, "handler")):
        seen = statements(db, lambda a=actor: search.search_orders(session, a, "宏达建筑"))
        statement, params = next((st, p) for st, p in seen if "宏达建筑" in str(p))
        plan = "\n".join(explain(session, db, statement, params))
        if db.name == "postgresql":
            assert "ix_work_order_text_trgm" in plan, plan
            assert "Seq Scan on work_order" not in plan, plan
        else:
            assert "VIRTUAL TABLE INDEX" in plan, plan
            assert "SCAN work_order" not in plan.replace("SCAN work_order_search", ""), plan


def test_a_search_page_is_served_by_the_text_index(db: Backend, session: Session) -> None:
    # A common word must not make SQLite collect and sort every match before the first page;
    # on PostgreSQL the page's query must reach the trigram indexes.
    from sqlalchemy import event

    seen: list[tuple[str, Any]] = []
    together: list[str] = []

    def capture(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        # A search term's pattern is escaped (the access rule's path prefix is not).
        parts = branches(statement)
        for part in parts:
            if "work_order_search MATCH" in part or "ESCAPE" in part.upper():
                seen.append((part, params))
        if len(parts) > 1:
            together.append(statement)

    operator = user(session, "operator")
    data = orders.WorkOrderCreate(caller_phone="13873801234", summary="宏达建筑拖欠工资")
    orders.create(session, data, operator)
    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        page = search.search_orders(session, operator, "宏达建筑 拖欠", limit=5)
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    # The services' search hands over WorkOrders, whichever statements found them.
    assert page.items and all(isinstance(order, WorkOrder) for order in page.items), page
    # PostgreSQL reads two pages, in one UNION ALL: the orders' own rows, then the orders
    # found through their call's transcript; SQLite one.
    assert len(seen) == (2 if db.name == "postgresql" else 1), seen
    assert len(together) == (1 if db.name == "postgresql" else 0), together
    statement, params = seen[0]
    connection = session.connection()
    if db.name == "postgresql":
        connection.exec_driver_sql("SET enable_seqscan = off")
        plan = connection.exec_driver_sql(f"EXPLAIN {statement}", params)
        text_plan = "\n".join(str(row[0]) for row in plan)
        connection.exec_driver_sql("RESET enable_seqscan")
        # Either text index serves it: the trigrams of 宏达建筑 or the gram array of 拖欠
        # (which one the planner takes depends on what the other tests left in the table).
        assert any(index in text_plan for index in PG_TEXT_INDEXES), text_plan
        assert "Seq Scan on work_order" not in text_plan, text_plan
        assert "pk_work_order" not in text_plan, text_plan  # not every order, newest first
        return
    plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params)
    steps = [str(row[-1]) for row in plan]
    assert steps[0].startswith("SCAN work_order_search VIRTUAL TABLE"), steps
    assert not any("TEMP B-TREE" in step for step in steps), steps


def test_short_words_page_by_keyset_and_keep_masking_and_transcripts(
    client: TestClient, db: Backend, session: Session
) -> None:
    op = db.headers["operator"]
    injuries = [create(client, op, summary=f"第{i}次工伤", category="work_injury")["id"]
                for i in range(5)]  # fmt: skip
    create(client, op, summary="拖欠工资")
    seen: list[int] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"q": "工伤", "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = ok(client.get(f"{API}/work-orders", headers=op, params=params))
        seen += [item["id"] for item in page["items"]]
        if (cursor := page["next_cursor"]) is None:
            break
    assert seen == sorted(injuries, reverse=True)
    assert found(client, op, "工伤 3次") == [injuries[3]]  # two short words, both must occur
    assert found(client, op, "工伤", category="wage_arrears") == []  # filters still apply
    # A short word in the call's transcript, for an order whose own text lacks it.
    call_id = "search-short-1@10.0.0.1"
    session.exec(delete(CallTranscript).where(CallTranscript.call_id == call_id))  # type: ignore[call-overload]
    session.commit()
    order = orders.create_from_call(session, {"call_id": call_id, "caller": "13873805678"})
    transcripts.store_transcript(
        session, transcripts.TranscriptRecord(call_id, "zh", [], "老板跑路", 3.0, "vosk")
    )
    assert found(client, op, "跑路") == [order.id]
    # Two digits of a number the viewer sees masked find nothing but order numbers.
    assert found(client, op, "78") == [order.id]  # the operator sees callers' numbers
    assert order.id not in found(client, db.headers["viewer"], "78")
    session.exec(delete(CallTranscript).where(CallTranscript.call_id == call_id))  # type: ignore[call-overload]
    session.commit()


def test_a_short_word_is_served_by_the_gram_index(
    client: TestClient, db: Backend, session: Session
) -> None:
    # Two characters have no trigram; most Chinese words have two. A rare one must not read
    # the table, and a common one must not collect every match before the first page.
    rare = create(client, db.headers["operator"], summary="老板说包工头跑路了，工钱没着落")
    operator = user(session, "operator")
    seen = statements(db, lambda: search.search_orders(session, operator, "着落", limit=5))
    assert [o.id for o in search.search_orders(session, operator, "着落").items] == [rare["id"]]
    statement, params = seen[0]  # the orders' own rows (PostgreSQL then asks transcripts)
    steps = explain(session, db, statement, params)
    if db.name == "postgresql":
        # The gram index finds the rows; the LIKE beside it is each row's cheap test.
        assert "hotline_grams" in statement and "%着落%" in bound_values(params), statement
        text_plan = "\n".join(steps)
        assert "Bitmap Index Scan on ix_work_order_text_grams" in text_plan, text_plan
        assert "Seq Scan" not in text_plan, text_plan
        return
    assert "%着落%" not in bound_values(params), (statement, params)  # no LIKE on the text
    assert "work_order_grams MATCH" in statement, statement
    # The gram table drives the query in rowid order: no sort, no scan of work_order.
    assert any("VIRTUAL TABLE INDEX" in step for step in steps), steps
    assert not any("TEMP B-TREE" in step for step in steps), steps
    assert not any(step.split()[:2] == ["SCAN", "work_order"] for step in steps), steps


def test_a_short_word_with_other_characters_is_a_filter_read_newest_first(
    client: TestClient, db: Backend, session: Session
) -> None:
    # `A-` is no gram (grams hold letters and digits only): tested on the rows read, newest
    # first, so the page still ends at its 21st match.
    order = create(client, db.headers["operator"], summary="B栋A-座的工人全部被欠薪")
    operator = user(session, "operator")
    seen = statements(db, lambda: search.search_orders(session, operator, "A-", limit=5))
    assert [o.id for o in search.search_orders(session, operator, "A-").items][:1] == [order["id"]]
    statement, params = seen[0]  # the orders' own rows (PostgreSQL then asks transcripts)
    assert "%A-%" in bound_values(params), (statement, params)
    assert "work_order.id IN" not in statement and "UNION" not in statement.upper(), statement
    steps = explain(session, db, statement, params)
    if db.name == "postgresql":
        text_plan = "\n".join(steps)
        assert "Index Scan Backward using pk_work_order on work_order" in text_plan, text_plan
        assert "Sort" not in text_plan, text_plan
        return
    assert not any("TEMP B-TREE" in step for step in steps), steps


def test_one_and_two_character_words_find_what_a_substring_search_finds(
    client: TestClient, db: Backend
) -> None:
    op, viewer = db.headers["operator"], db.headers["viewer"]
    first = create(client, op, summary="Boss欠薪3个月", caller_name="王五",
                   caller_phone="13873805566")  # fmt: skip
    second = create(client, op, summary="工伤认定，欠薪", employer_name="长沙市宏达公司")
    assert found(client, op, "欠薪") == [second["id"], first["id"]]
    assert found(client, op, "王") == [first["id"]]  # one character: a prefix of the grams
    assert found(client, op, "五") == [first["id"]]  # the last character of its run
    assert found(client, op, "boss") == [first["id"]]  # four letters: trigrams, case-blind
    assert found(client, op, "OS") == [first["id"]]  # two letters inside a word, case-blind
    assert found(client, op, "3个") == [first["id"]]
    assert found(client, op, "定欠") == []  # not next to each other: a comma between
    assert found(client, op, "欠薪 宏达") == [second["id"]]  # every word must occur
    assert found(client, op, "欠薪 长沙市") == [second["id"]]  # beside a trigram word
    assert found(client, op, "55") == [first["id"]]  # the caller's number, for the operator
    assert first["id"] not in found(client, viewer, "55")  # masked: order numbers only


def test_a_search_gives_the_same_pages_whichever_way_the_database_reads_them(
    client: TestClient, db: Backend, session: Session
) -> None:
    # PostgreSQL's planner serves a rare word from the trigram indexes and a common one by
    # reading the newest orders until a page is full: both must give the same pages.
    op = db.headers["operator"]
    operator = user(session, "operator")
    common = [create(client, op, summary=f"劳动合同纠纷{i}")["id"] for i in range(7)]
    rare = create(client, op, summary="经济补偿金")["id"]
    for _ in range(4):
        create(client, op, summary="别的事情")
    plans = ("bitmapscan", "indexscan") if db.name == "postgresql" else ("",)
    connection = session.connection()
    for off in plans:
        if off:
            connection.exec_driver_sql(f"SET enable_{off} = off")
            connection.exec_driver_sql("SET enable_seqscan = off")
        try:
            assert pages(session, operator, "劳动合同", 3) == sorted(common, reverse=True), off
            assert pages(session, operator, "经济补偿", 3) == [rare], off
            assert pages(session, operator, "纠纷3 劳动合同", 3) == [common[3]], off
        finally:
            if off:
                connection.exec_driver_sql(f"RESET enable_{off}")
                connection.exec_driver_sql("RESET enable_seqscan")


def pages(session: Session, actor: User, q: str, limit: int) -> list[int]:
    """Every order ``q`` finds, page after page through the service."""
    seen: list[int] = []
    cursor: str | None = None
    while True:
        page = search.search_orders(session, actor, q, limit=limit, cursor=cursor)
        seen += [o.id for o in page.items if o.id is not None]
        if (cursor := page.next_cursor) is None:
            return seen


def test_the_databases_gram_functions_agree_with_substrings(db: Backend, session: Session) -> None:
    # The gram index must hold a term exactly when the text holds it as a substring: checked
    # here for every one- and two-character term over texts mixing scripts and separators.
    texts = ["拖欠工资!", "Boss欠薪3个月，工伤", "工资工资", "", " a-B ", "王 五"]
    chars = sorted({c for t in texts for c in t.lower() if c.isalnum()})
    terms = chars + [a + b for a in chars for b in chars]
    connection = session.connection()
    for text_ in texts:
        if db.name == "postgresql":
            row = connection.execute(text("SELECT hotline_grams(:t)"), {"t": text_}).scalar_one()
            held = set(row)
        else:
            held = set(connection.execute(text("SELECT hotline_grams(:t)"), {"t": text_})
                       .scalar_one().split())  # fmt: skip
            held |= {g[0] for g in held}  # a character is found as the prefix of its grams
        expected = {t for t in terms if t in text_.lower()}
        assert {t for t in terms if t in held} == expected, text_
