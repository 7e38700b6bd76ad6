"""Database engine factory: SQLite by default, PostgreSQL through HOTLINE_DATABASE_URL."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, create_engine

from backoffice.textgrams import register_sqlite
from hotline.settings import Settings

# SQLite calls the progress handler every this many virtual-machine steps (well under 1 ms).
_SQLITE_PROGRESS_STEPS = 10_000
_DEADLINE = "hotline_deadline"
SQLITE_MMAP_BYTES = 2**31 - 2**16  # SQLite's default ceiling (SQLITE_MAX_MMAP_SIZE)


def make_engine(settings: Settings, *, statement_timeout_ms: int | None = None) -> Engine:
    """The engine for `settings.database_url`.

    With `statement_timeout_ms`, a statement that runs longer is stopped by the database
    (PostgreSQL's statement_timeout; on SQLite a progress handler interrupts it) and raises
    OperationalError, like a database that is down: for the web app, where a request whose
    client gave up must not keep the database busy for the next ones.
    """
    engine = _engine(settings)
    if statement_timeout_ms:
        if settings.sqlite_path is not None:
            _limit_sqlite_statements(engine, statement_timeout_ms / 1000)
        else:
            _limit_postgresql_statements(engine, statement_timeout_ms)
    return engine


def web_engine(settings: Settings) -> Engine:
    """The web app's engine: statements limited to `web_statement_timeout_ms`; on PostgreSQL
    without parallel workers (see `_serial_postgresql_statements`)."""
    engine = make_engine(settings, statement_timeout_ms=settings.web_statement_timeout_ms)
    if settings.sqlite_path is None:
        _serial_postgresql_statements(engine)
    return engine


def statement_timed_out(exc: BaseException) -> bool:
    """Whether a database error is a statement stopped by its time limit."""
    orig = getattr(exc, "orig", None)
    if isinstance(orig, sqlite3.OperationalError):
        return str(orig) == "interrupted"
    return getattr(orig, "sqlstate", None) == "57014"  # PostgreSQL query_canceled


def _engine(settings: Settings) -> Engine:
    # LIFO pools hand out the connection used last: its cache (SQLite) and prepared
    # statements (PostgreSQL) are warm, instead of a round through every pooled connection.
    if settings.sqlite_path is not None:
        settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        # A busy SQLite answers within its lock timeout or the request gets a 503 (not a
        # 30 s stall that keeps the thread, and every request queued behind it, waiting).
        engine = create_engine(
            settings.database_url,
            connect_args={"check_same_thread": False, "timeout": 10},
            pool_size=10,
            max_overflow=20,
            pool_timeout=5,
            pool_use_lifo=True,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        settings.database_url,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=20,
        pool_timeout=5,
        pool_use_lifo=True,
    )


def _limit_postgresql_statements(engine: Engine, timeout_ms: int) -> None:
    _on_postgresql_connect(engine, f"SET statement_timeout = {int(timeout_ms)}")


def _serial_postgresql_statements(engine: Engine) -> None:
    # A request's statement takes milliseconds: starting parallel workers for it took longer
    # (a common short word's search, 12.7 ms with two workers against 2.3 ms without) and
    # takes cores the other requests are waiting for.
    _on_postgresql_connect(engine, "SET max_parallel_workers_per_gather = 0")


def _on_postgresql_connect(engine: Engine, statement: str) -> None:
    def on_connect(dbapi_connection: Any, _record: object) -> None:
        # Set once per pooled connection, outside any transaction the app could roll back.
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True
        with dbapi_connection.cursor() as cursor:
            cursor.execute(statement)
        dbapi_connection.autocommit = autocommit

    event.listen(engine, "connect", on_connect)


def _limit_sqlite_statements(engine: Engine, timeout_s: float) -> None:
    # Each connection has one deadline, moved at the start of each statement; the handler
    # only compares clocks, so it costs nothing measurable between statements.
    def on_connect(dbapi_connection: Any, record: Any) -> None:
        deadline = [float("inf")]
        record.info[_DEADLINE] = deadline
        dbapi_connection.set_progress_handler(
            lambda: 1 if time.monotonic() > deadline[0] else 0, _SQLITE_PROGRESS_STEPS
        )

    def before_execute(conn: Any, *_: object) -> None:
        deadline = conn.connection.info.get(_DEADLINE)
        if deadline is not None:
            deadline[0] = time.monotonic() + timeout_s

    event.listen(engine, "connect", on_connect)
    event.listen(engine, "before_cursor_execute", before_execute)


def refresh_statistics(engine: Engine) -> bool:
    """SQLite: ANALYZE, so the planner knows how many orders a status or unit holds.

    Without statistics SQLite guesses that an equality on an indexed column is selective: a
    list of two statuses read both from the status index and sorted every older match
    (tens of ms on 1M orders) instead of walking (created_at, id). PostgreSQL's autovacuum
    keeps its own statistics: nothing to do there (False). A full ANALYZE of 1M orders took
    1.5 s; a sampled one (analysis_limit) mis-estimated the status index by 100x.
    """
    if engine.dialect.name != "sqlite":
        return False
    with engine.connect() as connection:
        connection.exec_driver_sql("ANALYZE")
        connection.commit()
    return True


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    # WAL lets the FastAGI server write call records while the web app reads.
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Pages read through the OS's page cache in place, not copied into each connection's own
    # 2 MB cache: a pooled connection is never cold (benchmarks/backoffice.py: with the LIFO
    # pool, the 1M-order lists' server CPU at 200 req/s fell from 76-88 % to 62-64 %).
    cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
    cursor.close()
    register_sqlite(dbapi_connection)  # type: ignore[arg-type]  # the search triggers call it


def create_tables(engine: Engine) -> None:
    """Create every table the imported models declare (idempotent)."""
    SQLModel.metadata.create_all(engine)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    with Session(engine) as session:
        yield session
