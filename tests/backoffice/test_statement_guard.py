"""PostgreSQL: a statement that outlives its allowance is cancelled by `hotline.db.guarded`,
and a search whose newest-first read runs long asks the text indexes instead."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from backoffice import search
from backoffice.domain.lifecycle import Status
from backoffice.services import order_lists
from hotline.db import guarded, make_engine, statement_guard, statement_timed_out
from tests.backoffice.conftest import Backend
from tests.backoffice.helpers import create, user
from tests.conftest import eventually

pytestmark = pytest.mark.integration

SLEEP = text("SELECT pg_sleep(3)")
QUICK = text("SELECT 41 + 1")


def test_a_statement_past_its_allowance_is_cancelled_and_the_next_one_runs(
    backend: Backend,
) -> None:
    if backend.name != "postgresql":
        return  # SQLite has no guard: test_sqlite_runs_the_statement
    reader = backend.engine.execution_options(isolation_level="AUTOCOMMIT")
    with Session(reader) as session:
        started = time.monotonic()
        assert guarded(session, 0.1, lambda: session.exec(SLEEP).all()) is None  # type: ignore[call-overload]
        assert time.monotonic() - started < 2
        assert guarded(session, 5, lambda: session.exec(QUICK).one()) == (42,)  # type: ignore[call-overload]
        assert session.exec(QUICK).one() == (42,)  # type: ignore[call-overload]
    assert eventually(lambda: not statement_guard().watching(), timeout=5)


def test_a_cancelled_statement_keeps_the_transaction_around_it(backend: Backend) -> None:
    if backend.name != "postgresql":
        return  # SQLite has no guard: test_sqlite_runs_the_statement
    with Session(backend.engine) as session:
        session.exec(text("CREATE TEMP TABLE guard_kept (x int)"))  # type: ignore[call-overload]
        session.exec(text("INSERT INTO guard_kept VALUES (1)"))  # type: ignore[call-overload]
        assert guarded(session, 0.1, lambda: session.exec(SLEEP).all()) is None  # type: ignore[call-overload]
        kept = session.exec(text("SELECT x FROM guard_kept")).all()  # type: ignore[call-overload]
        assert [tuple(r) for r in kept] == [(1,)]
        session.rollback()


def test_a_statement_stopped_by_the_time_limit_is_not_taken_for_the_guard(
    backend: Backend,
) -> None:
    if backend.name != "postgresql":
        return  # SQLite has no guard: test_sqlite_runs_the_statement
    engine = make_engine(backend.settings, statement_timeout_ms=100)
    try:
        with Session(engine) as session, pytest.raises(OperationalError) as stopped:
            guarded(session, 10, lambda: session.exec(SLEEP).all())  # type: ignore[call-overload]
        assert statement_timed_out(stopped.value)
    finally:
        engine.dispose()


def test_sqlite_runs_the_statement(backend: Backend) -> None:
    if backend.name != "sqlite":
        return  # PostgreSQL: the tests above
    with Session(backend.engine) as session:
        assert guarded(session, 0.001, lambda: session.exec(QUICK).one()) == (42,)  # type: ignore[call-overload]


def test_a_slow_newest_first_search_is_answered_from_the_text_index(
    client: Any, db: Backend, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The planner misjudging a rare term as common (reading the newest orders first through
    # 1M of them) is played by a statement that sleeps before it reads: the guard stops it
    # and the same page comes from a read ordered so that only the text index can serve it.
    if db.name != "postgresql":
        return  # SQLite's text index hands matches over newest first: nothing to guard
    op = db.headers["operator"]
    employer = "娄底市某某物流有限公司"
    made = [create(client, op, employer_name=employer) for _ in range(3)]
    wanted = [order["id"] for order in made]
    create(client, op, summary="别的事情")
    sent: list[str] = []
    run = order_lists._run

    def slow_newest_first(s: Session, query: Any, params: dict[str, Any]) -> list[Any]:
        statement = str(query)
        sent.append(statement)
        # The order's own row (the transcripts' statement is another, never guarded).
        own_row = employer in str(query.compile().params) and "call_transcript" not in statement
        if "ORDER BY work_order.id DESC" in statement and own_row:
            s.exec(text("SELECT pg_sleep(1)")).all()  # type: ignore[call-overload]
        return run(s, query, params)

    monkeypatch.setattr(order_lists, "_run", slow_newest_first)
    monkeypatch.setattr(order_lists, "SEARCH_GUARD_S", 0.2)
    operator = user(session, "operator")
    started = time.monotonic()
    page = search.search_orders(session, operator, employer)
    assert time.monotonic() - started < 1
    assert [o.id for o in page.items] == sorted(wanted, reverse=True)
    assert any("ORDER BY work_order.id + " in st for st in sent), sent
    # A filtered list is not guarded: its statement runs to the end (or the 5 s limit).
    sent.clear()
    filtered = order_lists.OrderFilters(status=(Status(made[0]["status"]),))
    started = time.monotonic()
    page = search.search_orders(session, operator, employer, filtered)
    assert time.monotonic() - started >= 1
    assert [o.id for o in page.items] == sorted(wanted, reverse=True)
    assert not any("ORDER BY work_order.id + " in st for st in sent), sent
    # The session goes on answering.
    assert session.exec(QUICK).one() == (42,)  # type: ignore[call-overload]
