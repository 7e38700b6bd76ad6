"""The work-order service against the real databases: concurrency, keyset pages, filters."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
from sqlmodel import Session, func, select

from backoffice.domain import lifecycle as lc
from backoffice.domain.deadlines import Category
from backoffice.domain.lifecycle import LifecycleError, Role, Status
from backoffice.domain.numbering import parse_number
from backoffice.errors import BackofficeError, Invalid
from backoffice.models import User, WorkOrder, WorkOrderCreate, WorkOrderEvent
from backoffice.services import order_lists
from backoffice.services import work_orders as orders
from tests.backoffice.conftest import Backend
from tests.backoffice.helpers import explain, statements, user

pytestmark = pytest.mark.integration

T = TypeVar("T")
THREADS = 8
MORNING = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)  # 09:30 in Beijing, a Monday


def in_threads(db: Backend, work: Callable[[Session, int], T], count: int = THREADS) -> list[T]:
    """Run ``work`` in ``count`` threads, each with its own session, released together."""
    start = threading.Barrier(count)

    def run(i: int) -> T:
        with Session(db.engine) as session:
            start.wait()
            return work(session, i)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def count(session: Session, *where: object) -> int:
    return int(session.exec(select(func.count()).select_from(WorkOrder).where(*where)).one())  # type: ignore[arg-type]


def test_create_from_call_returns_the_existing_order(db: Backend, session: Session) -> None:
    event = {"call_id": "sip-abc@10.0.0.1", "caller": "13873801234", "summary": "欠薪"}
    first = orders.create_from_call(session, event)
    second = orders.create_from_call(session, {**event, "summary": "changed"})
    assert first.id == second.id
    assert second.summary == "欠薪"
    assert count(session) == 1
    with pytest.raises(Invalid, match="not a call event"):
        orders.create_from_call(session, {"caller": "13873801234"})


def test_the_same_call_from_concurrent_consumers_makes_one_order(db: Backend) -> None:
    event = {"call_id": "1763900000.7", "caller": "+86 138 7380 1234"}
    ids = in_threads(db, lambda session, _i: orders.create_from_call(session, event).id)
    assert len(set(ids)) == 1
    with Session(db.engine) as session:
        assert count(session) == 1
        events = session.exec(select(WorkOrderEvent)).all()
        assert [e.action for e in events] == ["create"]


def test_numbers_are_unique_and_gapless_under_concurrency(db: Backend) -> None:
    per_thread = 5

    def take(session: Session, i: int) -> list[str]:
        return [
            orders.create_from_call(session, {"call_id": f"call-{i}-{k}"}, now=MORNING).number
            for k in range(per_thread)
        ]

    numbers = [n for batch in in_threads(db, take) for n in batch]
    assert len(set(numbers)) == THREADS * per_thread
    days_and_seqs = sorted(parse_number(n) for n in numbers)
    assert {day for day, _ in days_and_seqs} == {MORNING.date()}
    assert [seq for _, seq in days_and_seqs] == list(range(1, THREADS * per_thread + 1))


def test_numbers_follow_the_beijing_day(db: Backend, session: Session) -> None:
    late_utc = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)  # 01:00 on the 24th in Beijing
    first = orders.create_from_call(session, {"call_id": "a"}, now=late_utc)
    second = orders.create_from_call(session, {"call_id": "b"}, now=late_utc)
    assert (first.number, second.number) == ("GH20261124000001", "GH20261124000002")


def test_concurrent_actions_on_one_order_let_exactly_one_win(db: Backend, session: Session) -> None:
    order = orders.create_from_call(session, {"call_id": "race", "caller": "13873801234"})
    oid = order.id or 0  # read here: the threads must not touch this session
    orders.act(session, oid, lc.Dispatch(db.units["双峰县总工会"]), user(session, "operator"))

    def sign(s: Session, _i: int) -> str:
        try:
            orders.act(s, oid, lc.Sign(), user(s, "handler"))
        except (LifecycleError, BackofficeError) as exc:
            return type(exc).__name__
        return "signed"

    outcomes = in_threads(db, sign)
    assert outcomes.count("signed") == 1
    # PostgreSQL queues them on the row lock (the rest see 'signed': IllegalTransition);
    # SQLite has no row lock, so the version check turns the rest away (Conflict).
    assert set(outcomes) - {"signed"} <= {"IllegalTransition", "Conflict"}
    with Session(db.engine) as check:
        signs = check.exec(select(WorkOrderEvent).where(WorkOrderEvent.action == "sign")).all()
        assert len(signs) == 1


def test_keyset_pages_neither_repeat_nor_skip(db: Backend, session: Session) -> None:
    operator = user(session, "operator")
    # 3 batches with identical timestamps: only the id breaks the ties.
    stamps = [MORNING, MORNING + timedelta(microseconds=1), MORNING + timedelta(minutes=5)]
    made = [
        orders.create_from_call(session, {"call_id": f"{i}-{k}"}, now=stamp).id
        for i, stamp in enumerate(stamps)
        for k in range(9)
    ]
    seen: list[int] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = order_lists.list_orders(session, operator, limit=4, cursor=cursor)
        seen += [o.id for o in page.items if o.id is not None]
        pages += 1
        if pages == 2:  # newer orders arriving meanwhile must not shift the pages
            orders.create_from_call(session, {"call_id": "late"}, now=MORNING + timedelta(hours=1))
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == len(made)
    expected = sorted(made, key=lambda oid: (stamps[made.index(oid) // 9], oid), reverse=True)
    assert seen == expected
    assert pages == 7  # 27 orders, 4 a page


def test_a_bad_cursor_is_invalid(db: Backend, session: Session) -> None:
    operator = user(session, "operator")
    for cursor in ("garbage", "bm90fGE", "MjAyNi0wMS0wMXwx", "ü"):
        with pytest.raises(Invalid):
            order_lists.list_orders(session, operator, cursor=cursor)


def test_list_filters(db: Backend, session: Session) -> None:
    operator = user(session, "operator")
    unit = db.units["双峰县总工会"]
    injury = orders.create(
        session,
        WorkOrderCreate(caller_phone="13873801234", category=Category.WORK_INJURY),
        operator,
        now=MORNING,
    ).order
    orders.act(session, injury.id or 0, lc.Dispatch(unit), operator, now=MORNING)
    wages = orders.create_from_call(
        session, {"call_id": "w", "category": "wage_arrears"}, now=MORNING + timedelta(days=1)
    )

    def ids(**filters: Any) -> set[int | None]:
        page = order_lists.list_orders(
            session, operator, order_lists.OrderFilters(**filters), now=MORNING + timedelta(days=3)
        )
        return {o.id for o in page.items}

    assert ids(status=[Status.DISPATCHED]) == {injury.id}
    assert ids(status=[Status.ACCEPTED, Status.DISPATCHED]) == {injury.id, wages.id}
    assert ids(category=["wage_arrears"]) == {wages.id}
    assert ids(org_unit_id=db.units["娄底市总工会"]) == {injury.id}  # includes the counties
    assert ids(org_unit_id=db.units["长沙市总工会"]) == set()
    assert ids(overdue=True) == {injury.id}  # sign-for was due by the end of Tuesday
    assert ids(overdue=False) == {wages.id}
    assert ids(created_from=MORNING + timedelta(hours=1)) == {wages.id}
    assert ids(created_to=MORNING + timedelta(hours=1)) == {injury.id}
    with pytest.raises(Invalid):
        ids(org_unit_id=99999)


def test_lists_of_one_shape_share_a_statement_but_not_its_values(
    db: Backend, session: Session
) -> None:
    # Statements are built once per shape of filters and viewer (order_lists.Where), the
    # values bound per request: a second viewer or value must never see the first's.
    supervisor, operator = user(session, "supervisor"), user(session, "operator")
    xinhua = User(
        username="handler_xinhua",
        display_name="新化县经办人",
        role=Role.HANDLER,
        org_unit_id=db.units["新化县总工会"],
        password_hash="not-used",
    )
    session.add(xinhua)
    session.commit()
    made = {}
    for unit in ("双峰县总工会", "新化县总工会"):
        order = orders.create_from_call(session, {"call_id": unit}, now=MORNING)
        orders.act(session, order.id or 0, lc.Dispatch(db.units[unit]), operator, now=MORNING)
        made[unit] = order.id
    waiting = orders.create_from_call(session, {"call_id": "waiting"}, now=MORNING)

    def ids(actor: User, **filters: Any) -> set[int | None]:
        page = order_lists.list_orders(session, actor, order_lists.OrderFilters(**filters))
        return {o.id for o in page.items}

    order_lists._list_query.cache_clear()
    assert ids(user(session, "handler")) == {made["双峰县总工会"]}
    assert ids(xinhua) == {made["新化县总工会"]}
    assert ids(supervisor, status=[Status.ACCEPTED]) == {waiting.id}
    assert ids(supervisor, status=[Status.DISPATCHED]) == set(made.values())
    loudi, changsha = db.units["娄底市总工会"], db.units["长沙市总工会"]
    assert ids(supervisor, org_unit_id=loudi) == set(made.values())
    assert ids(supervisor, org_unit_id=changsha) == set()
    built = order_lists._list_query.cache_info()
    assert (built.misses, built.hits) == (3, 3)  # handlers, one status, one unit


def test_a_next_page_is_one_range_of_the_keyset_index(db: Backend, session: Session) -> None:
    # The cursor is a row value: `created_at < c OR (created_at = c AND id < i)` made SQLite
    # merge two index searches and sort every older match (46 ms a page on 1M orders).
    operator = user(session, "operator")
    for k in range(3):
        orders.create_from_call(session, {"call_id": f"p{k}"}, now=MORNING + timedelta(hours=k))
    filters = order_lists.OrderFilters(status=[Status.ACCEPTED, Status.DISPATCHED])
    first = order_lists.list_orders(session, operator, filters, limit=2)
    assert first.next_cursor is not None

    def next_page() -> None:
        order_lists.list_orders(session, operator, filters, limit=2, cursor=first.next_cursor)

    [(statement, params)] = statements(db, next_page)
    assert "(work_order.created_at, work_order.id) <" in statement, statement
    plan = explain(session, db, statement, params)
    if db.name == "postgresql":
        assert any("Index Cond" in line and "ROW(" in line for line in plan), plan
        return
    # Which index SQLite takes depends on its statistics (a tiny table here); never both.
    assert not any("MULTI-INDEX OR" in step for step in plan), plan
    assert any("created_at<?" in step for step in plan), plan


def test_the_list_order_is_served_by_the_keyset_index(db: Backend, session: Session) -> None:
    query = "SELECT id FROM work_order ORDER BY created_at DESC, id DESC LIMIT 20"
    assert "ix_work_order_created_at_id" in _plan(db, session, query)


@pytest.mark.parametrize("column", ["status", "org_unit_id", "assignee_id"])
def test_a_filtered_list_is_one_range_of_its_keyset_index(
    db: Backend, session: Session, column: str
) -> None:
    # Revision 0004: with the filter column in front of (created_at, id), a page of a rare
    # status costs what a page of a common one does, instead of a walk past the others.
    query = (
        f"SELECT id FROM work_order WHERE {column} = :value"
        " ORDER BY created_at DESC, id DESC LIMIT 20"
    )
    value = "reopened" if column == "status" else 1
    plan = _plan(db, session, query, value=value)
    assert f"ix_work_order_{column}_created_at_id" in plan
    assert "Sort" not in plan and "TEMP B-TREE" not in plan  # the index gives the order


def _plan(db: Backend, session: Session, query: str, **params: object) -> str:
    from sqlalchemy import text

    if db.name == "postgresql":
        # The test table is tiny: keep the planner off the plans it would prefer for that.
        for method in ("seqscan", "bitmapscan"):
            session.exec(text(f"SET enable_{method} = off"))  # type: ignore[call-overload]
        explain = "EXPLAIN"
    else:
        explain = "EXPLAIN QUERY PLAN"
    rows = session.exec(text(f"{explain} {query}"), params=params)  # type: ignore[call-overload]
    return "\n".join(str(row[-1]) for row in rows)
