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
from tests.backoffice.helpers import branches, create, user
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


@pytest.fixture
def slow_newest_first(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The planner misjudging a rare term as common, reading the newest orders first
    through 1M of them, played by a search's own-row read that sleeps 1 s before it reads;
    the statements sent, as text."""
    sent: list[str] = []
    run = order_lists._run

    def slow(session: Session, query: Any, params: dict[str, Any], plain: bool) -> list[Any]:
        statement = str(query)
        sent.append(statement)
        # The order's own row, newest first, alone or beside the transcripts' read in one
        # UNION ALL (the transcripts' read alone is never guarded).
        if any(
            "call_transcript" not in part
            and "LIKE" in part
            and "ORDER BY work_order.id DESC" in part
            for part in branches(statement)
        ):
            session.exec(text("SELECT pg_sleep(1)")).all()  # type: ignore[call-overload]
        return run(session, query, params, plain)

    monkeypatch.setattr(order_lists, "_run", slow)
    monkeypatch.setattr(order_lists, "SEARCH_GUARD_S", 0.2)
    monkeypatch.setattr(order_lists, "RECENT_ORDERS", 2)
    monkeypatch.setattr(order_lists, "COMMON_MATCHES", 1)
    return sent


EMPLOYER = "娄底市某某物流有限公司"


def test_a_slow_read_of_a_term_rare_lately_is_answered_from_the_text_index(
    client: Any, db: Backend, session: Session, slow_newest_first: list[str]
) -> None:
    if db.name != "postgresql":
        return  # SQLite's text index hands matches over newest first: nothing to guard
    op = db.headers["operator"]
    made = [create(client, op, employer_name=EMPLOYER) for _ in range(3)]
    wanted = sorted((order["id"] for order in made), reverse=True)
    for _ in range(2):  # the newest orders hold none of the employer's
        create(client, op, summary="别的事情")
    operator = user(session, "operator")
    started = time.monotonic()
    page = search.search_orders(session, operator, EMPLOYER)
    assert time.monotonic() - started < 1
    assert [o.id for o in page.items] == wanted
    assert any("ORDER BY work_order.id + " in st for st in slow_newest_first)
    # A filtered list is not guarded: its statement runs to the end (or the 5 s limit).
    slow_newest_first.clear()
    filtered = order_lists.OrderFilters(status=(Status(made[0]["status"]),))
    started = time.monotonic()
    page = search.search_orders(session, operator, EMPLOYER, filtered)
    assert time.monotonic() - started >= 1
    assert [o.id for o in page.items] == wanted
    assert not any("ORDER BY work_order.id + " in st for st in slow_newest_first)
    assert session.exec(QUICK).one() == (42,)  # type: ignore[call-overload]


def test_a_slow_read_of_a_term_common_lately_is_run_again_as_it_was(
    client: Any, db: Backend, session: Session, slow_newest_first: list[str]
) -> None:
    # Slow because the database is busy: the text indexes would hand over every match of a
    # common word, so the newest-first read runs again, to its end.
    if db.name != "postgresql":
        return
    op = db.headers["operator"]
    oldest = create(client, op, employer_name=EMPLOYER)["id"]
    create(client, op, summary="别的事情")
    newest = create(client, op, employer_name=EMPLOYER)["id"]
    operator = user(session, "operator")
    started = time.monotonic()
    page = search.search_orders(session, operator, EMPLOYER, limit=1)
    assert time.monotonic() - started >= 1
    assert [o.id for o in page.items] == [newest]
    # The next page too: whether a term is common is asked of the newest orders, not of
    # those below the cursor.
    rest = search.search_orders(session, operator, EMPLOYER, limit=1, cursor=page.next_cursor)
    assert [o.id for o in rest.items] == [oldest]
    assert not any("ORDER BY work_order.id + " in st for st in slow_newest_first)
    assert session.exec(QUICK).one() == (42,)  # type: ignore[call-overload]
