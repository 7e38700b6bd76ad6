"""A web request's statement that runs too long is stopped by the database itself and answered
with a clear 503; the connection stays usable. On SQLite and on PostgreSQL."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from types import FrameType

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, TextClause, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from backoffice.api.errors import DATABASE_SLOW
from backoffice.app import create_app
from hotline.db import SqliteWatchdog, make_engine, statement_timed_out, web_engine
from hotline.errors import ConfigError
from hotline.settings import load_settings
from tests.backoffice.conftest import SECRET, Backend
from tests.conftest import eventually

pytestmark = pytest.mark.integration

# Counts to 10^9 one row at a time: minutes on either database, unless stopped.
ENDLESS = text(
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000) "
    "SELECT count(*) FROM c"
)
SHORT = text(
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000) "
    "SELECT count(*) FROM c"
)


def test_a_statement_past_the_limit_is_stopped_and_the_next_one_runs(backend: Backend) -> None:
    engine = make_engine(backend.settings, statement_timeout_ms=300)
    try:
        with engine.connect() as conn:
            started = time.monotonic()
            with pytest.raises(OperationalError) as stopped:
                conn.execute(ENDLESS)
            took = time.monotonic() - started
            assert statement_timed_out(stopped.value), stopped.value
            assert 0.25 < took < 5, took
            conn.rollback()
            # The same pooled connection, and its limit is per statement, not per connection.
            assert conn.execute(SHORT).scalar_one() == 1000
            assert conn.execute(SHORT).scalar_one() == 1000
    finally:
        engine.dispose()


def test_without_a_limit_nothing_is_stopped_and_other_errors_are_not_timeouts(
    backend: Backend,
) -> None:
    engine = make_engine(backend.settings)
    try:
        with engine.connect() as conn:
            assert conn.execute(SHORT).scalar_one() == 1000
            with pytest.raises(Exception) as failed:
                conn.execute(text("SELECT * FROM no_such_table"))
            assert not statement_timed_out(failed.value)
    finally:
        engine.dispose()


def test_the_web_app_stops_a_slow_statement_with_a_clear_503(backend: Backend) -> None:
    settings = load_settings(
        var_dir=backend.settings.var_dir,
        database_url=backend.settings.database_url,
        web_statement_timeout_ms=300,
    )
    app = create_app(settings, secret_key=SECRET)  # its own engine: the web limit applies

    @app.get("/api/v1/test-slow")
    def slow() -> int:
        with app.state.backoffice.engine.connect() as conn:
            return int(conn.execute(ENDLESS).scalar_one())

    @app.get("/test-slow-page")
    def slow_page() -> int:
        return slow()

    with TestClient(app) as client:
        api = client.get("/api/v1/test-slow")
        assert api.status_code == 503
        assert api.json() == {"detail": DATABASE_SLOW}
        assert api.headers["retry-after"] == "5"
        page = client.get("/test-slow-page")
        assert page.status_code == 503
        assert "数据库处理本次请求超时，已停止" in page.text  # the page speaks Chinese first
        # The app goes on answering from the same pool.
        me = client.get("/api/v1/users/me", headers=backend.headers["operator"])
        assert me.status_code == 200, me.text
        assert me.json()["username"] == "operator"


def test_the_limit_setting_is_checked() -> None:
    with pytest.raises(ConfigError, match="HOTLINE_WEB_STATEMENT_TIMEOUT_MS=-1"):
        load_settings(web_statement_timeout_ms=-1)


def test_the_web_engine_runs_postgresql_statements_without_parallel_workers(
    backend: Backend,
) -> None:
    # Starting workers took longer than a request's statement and took the other requests'
    # cores; other engines (migrations, reports' workers) keep the database's setting.
    engine = web_engine(backend.settings)
    try:
        with engine.connect() as conn:
            if backend.name != "postgresql":
                assert conn.execute(SHORT).scalar_one() == 1000  # nothing to set on SQLite
                return
            workers = conn.exec_driver_sql("SHOW max_parallel_workers_per_gather").scalar_one()
            assert workers == "0"
            assert conn.exec_driver_sql("SHOW statement_timeout").scalar_one() != "0"
    finally:
        engine.dispose()


# SQLite: the limit is kept by a watchdog thread (`hotline.db.SqliteWatchdog`), not by a
# callback SQLite makes into Python while the statement runs.

# Counts to 2,000,000: about 100 ms, a thousand progress-handler calls at 10,000 steps.
LONG = text(
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000) "
    "SELECT count(*) FROM c"
)


def _sqlite_engine(tmp_path: Path, timeout_ms: int) -> Engine:
    settings = load_settings(var_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'x.db'}")
    return make_engine(settings, statement_timeout_ms=timeout_ms)


def _python_calls_while(conn: Connection, statement: TextClause) -> int:
    """How many Python functions this thread runs while ``statement`` runs and is fetched."""
    calls = 0

    def count(_frame: FrameType, event: str, _arg: object) -> None:
        nonlocal calls
        if event == "call":
            calls += 1

    sys.setprofile(count)
    try:
        conn.execute(statement).scalar_one()
    finally:
        sys.setprofile(None)
    return calls


def test_sqlite_runs_no_python_while_a_limited_statement_runs(tmp_path: Path) -> None:
    engine = _sqlite_engine(tmp_path, 5000)
    try:
        with engine.connect() as conn:
            for statement in (SHORT, LONG):  # the statement caches and the watchdog are warm
                conn.execute(statement).scalar_one()
            short = _python_calls_while(conn, SHORT)
            long = _python_calls_while(conn, LONG)
        # The same Python runs around a 1,000-row and a 2,000,000-row statement: none inside.
        assert long == short, (short, long)
    finally:
        engine.dispose()


def test_sqlite_a_connection_idle_past_its_deadline_runs_its_next_statement(
    tmp_path: Path,
) -> None:
    engine = _sqlite_engine(tmp_path, 100)
    try:
        with engine.connect() as conn:
            assert conn.execute(SHORT).scalar_one() == 1000
            time.sleep(0.4)  # the deadline passes while nothing runs: nothing to stop
            assert conn.execute(SHORT).scalar_one() == 1000
    finally:
        engine.dispose()


def test_sqlite_stops_only_the_overdue_statement(tmp_path: Path) -> None:
    engine = _sqlite_engine(tmp_path, 300)
    results: list[int] = []

    def quick_statements() -> None:
        with engine.connect() as conn:
            deadline = time.monotonic() + 0.6  # across the endless one's deadline
            while time.monotonic() < deadline:
                results.append(conn.execute(SHORT).scalar_one())

    try:
        beside = threading.Thread(target=quick_statements)
        with engine.connect() as conn:
            beside.start()
            with pytest.raises(OperationalError) as stopped:
                conn.execute(ENDLESS)
            assert statement_timed_out(stopped.value)
        beside.join()
        assert results and set(results) == {1000}, results[-5:]
    finally:
        engine.dispose()


def test_sqlite_watchdog_thread_ends_when_idle_and_comes_back(tmp_path: Path) -> None:
    watchdog = SqliteWatchdog(0.3)
    engine = _sqlite_engine(tmp_path, 0)
    try:
        with engine.connect() as conn:
            dbapi = conn.connection.dbapi_connection
            assert dbapi is not None
            watchdog.started(dbapi)  # type: ignore[arg-type]
            assert watchdog.watching()
            watchdog.finished(dbapi)  # type: ignore[arg-type]
            assert eventually(lambda: not watchdog.watching(), timeout=5)
            watchdog.started(dbapi)  # type: ignore[arg-type]
            with pytest.raises(OperationalError) as stopped:
                conn.execute(ENDLESS)
            assert statement_timed_out(stopped.value)
    finally:
        engine.dispose()
