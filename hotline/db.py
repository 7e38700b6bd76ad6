"""Database engine factory: SQLite by default, PostgreSQL through HOTLINE_DATABASE_URL."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlmodel import Session, SQLModel, create_engine

from backoffice.textgrams import register_sqlite
from hotline.settings import Settings

# How often the watchdog looks at SQLite's running statements, at most (a 5 s limit is
# enforced within 50 ms), and how long it waits idle before its thread ends.
_WATCH_TICK_S = 0.05
_WATCH_IDLE_S = 1.0
# How often the PostgreSQL statement guard looks: its allowances are tens of ms.
_GUARD_TICK_S = 0.005
T = TypeVar("T")
SQLITE_MMAP_BYTES = 2**31 - 2**16  # SQLite's default ceiling (SQLITE_MAX_MMAP_SIZE)
# Pages one step of `merge_text_indexes` writes: 0.8 s at most on 1M orders.
MERGE_PAGES = 500


def make_engine(settings: Settings, *, statement_timeout_ms: int | None = None) -> Engine:
    """The engine for `settings.database_url`.

    With `statement_timeout_ms`, a statement that runs longer is stopped by the database
    (PostgreSQL's statement_timeout; on SQLite a watchdog thread interrupts it) and raises
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


@contextmanager
def planned_with_values(session: Session) -> Iterator[None]:
    """PostgreSQL: the statements run inside are planned with their values every time, never
    prepared. psycopg prepares a statement after five runs, and PostgreSQL may then keep a
    generic plan made without the values: right for a list, wrong for a search, whose words
    decide between an index and reading the newest orders (a search of 联泰 took 57 ms
    prepared against 11 ms; one of 工伤 read every order until its time limit stopped it)."""
    dbapi: Any = session.connection().connection.dbapi_connection
    if not hasattr(dbapi, "prepare_threshold"):  # SQLite
        yield
        return
    threshold = dbapi.prepare_threshold
    dbapi.prepare_threshold = None
    try:
        yield
    finally:
        dbapi.prepare_threshold = threshold


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
    engine = create_engine(
        settings.database_url,
        pool_size=10,
        max_overflow=20,
        pool_timeout=5,
        pool_use_lifo=True,
    )
    ping_idle_connections(engine)
    return engine


# A connection handed back moments ago is alive as far as a ping could tell: pinging each
# checkout (`pool_pre_ping`) cost every request a round trip and about 0.1 ms of Python.
PING_AFTER_IDLE_S = 1.0


def ping_idle_connections(engine: Engine, idle_s: float = PING_AFTER_IDLE_S) -> None:
    """Ping a pooled connection at checkout if it has been idle ``idle_s`` or longer; a dead
    one is replaced before the request sees it (the pool's disconnect handling).

    A server that restarts within ``idle_s`` of a connection's last use fails that
    connection's next statement instead; the pool then discards every connection it holds.
    """

    def checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["checked_in_at"] = time.monotonic()

    def checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop("checked_in_at", None)
        if since is None or time.monotonic() - since < idle_s:
            return  # just connected, or used a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError(f"pooled connection is gone: {exc}") from exc

    event.listen(engine, "checkin", checked_in)
    event.listen(engine, "checkout", checked_out)


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
    watchdog = SqliteWatchdog(timeout_s)

    def before_execute(conn: Any, *_: object) -> None:
        watchdog.started(conn.connection.dbapi_connection)

    def released(dbapi_connection: Any, *_: object) -> None:
        watchdog.finished(dbapi_connection)

    event.listen(engine, "before_cursor_execute", before_execute)
    event.listen(engine, "checkin", released)
    event.listen(engine, "close", released)


class _Watchdog:
    """A thread that acts on connections whose deadline has passed (`_expired`), started
    when a deadline is first set and ended when none has been set for a while.

    A stop runs outside the lock the deadlines share: a PostgreSQL cancel is a connection of
    its own to the server, a few ms and more on a busy one, and every other connection's
    statement would wait for it to start or end. Only the stopped connection waits: its next
    statement cannot start, nor its current one be reported finished, before the stop is
    done, so a stop never lands on the statement after the one it was meant for.
    """

    name = "statement-watchdog"

    def __init__(self, tick_s: float) -> None:
        self.tick_s = tick_s
        self._lock = threading.Lock()
        self._deadlines: dict[int, tuple[float, Any]] = {}
        self._stopping: dict[int, threading.Event] = {}
        self._thread: threading.Thread | None = None

    def started(self, connection: Any, seconds: float) -> None:
        key = id(connection)
        # No new stop of this connection can begin meanwhile: it has no deadline now.
        self._wait_stopped(key)
        with self._lock:
            self._deadlines[key] = (time.monotonic() + seconds, connection)
            if self._thread is None:
                self._thread = threading.Thread(target=self._watch, name=self.name, daemon=True)
                self._thread.start()

    def finished(self, connection: Any) -> None:
        key = id(connection)
        with self._lock:
            self._deadlines.pop(key, None)
        self._wait_stopped(key)

    def watching(self) -> bool:
        """Whether the watchdog's thread is running (it ends when nothing has run a while)."""
        with self._lock:
            return self._thread is not None

    def _wait_stopped(self, key: int) -> None:
        with self._lock:
            stopping = self._stopping.get(key)
        if stopping is not None:
            stopping.wait()

    def _expired(self, key: int, connection: Any) -> None:
        raise NotImplementedError

    def _watch(self) -> None:
        idle_since = time.monotonic()
        while True:
            time.sleep(self.tick_s)
            now = time.monotonic()
            with self._lock:
                due = self._take_due(now)
                if self._deadlines or due:
                    idle_since = now
                elif now - idle_since > _WATCH_IDLE_S:
                    # Engines come and go (tests, commands): no thread outlives its work.
                    self._thread = None
                    return
            for key, connection in due:
                self._stop(key, connection)

    def _take_due(self, now: float) -> list[tuple[int, Any]]:
        due = [(k, c) for k, (deadline, c) in self._deadlines.items() if now > deadline]
        for key, _ in due:
            del self._deadlines[key]
            self._stopping[key] = threading.Event()
        return due

    def _stop(self, key: int, connection: Any) -> None:
        try:
            self._expired(key, connection)
        finally:
            with self._lock:
                stopping = self._stopping.pop(key)
            stopping.set()


class SqliteWatchdog(_Watchdog):
    """Interrupts a SQLite statement that runs past its deadline, from a thread of its own.

    Not a progress handler: SQLite calls that back into Python every N steps, and each call
    must take the GIL from whichever request thread holds it, so beside a busy thread a
    7 ms statement took 650 ms (N = 10,000; `benchmarks/sqlite_time_limit.py`). Here the
    statement runs in C without the GIL, and `interrupt()`, made for another thread, stops
    it. A connection's deadline is its latest statement's: the rows are stepped while they
    are fetched, after `execute` returns. Interrupting a connection whose statements have
    finished does nothing (SQLite).
    """

    name = "sqlite-statement-watchdog"

    def __init__(self, timeout_s: float) -> None:
        super().__init__(min(_WATCH_TICK_S, timeout_s / 4))
        self.timeout_s = timeout_s

    def started(self, connection: Any, seconds: float | None = None) -> None:
        super().started(connection, self.timeout_s if seconds is None else seconds)

    def _expired(self, key: int, connection: Any) -> None:
        _interrupt(connection)


class StatementGuard(_Watchdog):
    """Cancels a PostgreSQL statement that outlives its allowance, for a caller that has
    another way to ask (`guarded`). The cancel request goes from this thread; PostgreSQL
    ignores one that arrives when the statement has just finished, and the connection's
    next statement cannot start before the cancel is done (`_Watchdog`)."""

    name = "postgresql-statement-guard"

    def __init__(self) -> None:
        super().__init__(_GUARD_TICK_S)
        self._cancelled: set[int] = set()

    def run(self, connection: Any, seconds: float, statement: Callable[[], T]) -> T | None:
        """``statement()``'s result, or None if it ran past ``seconds`` and was cancelled."""
        key = id(connection)
        self.started(connection, seconds)
        try:
            return statement()
        except DBAPIError as exc:
            # An error of a cancelled statement comes once the cancel has been sent.
            with self._lock:
                cancelled = key in self._cancelled
            if cancelled and statement_timed_out(exc):
                return None
            raise
        finally:
            self.finished(connection)
            with self._lock:
                self._cancelled.discard(key)

    def _expired(self, key: int, connection: Any) -> None:
        with self._lock:
            self._cancelled.add(key)
        with suppress(Exception):  # the connection closed meanwhile: nothing to cancel
            connection.cancel_safe(timeout=1)


@cache
def statement_guard() -> StatementGuard:
    """The process's guard (its thread starts with the first guarded statement)."""
    return StatementGuard()


def guarded(session: Session, seconds: float, statement: Callable[[], T]) -> T | None:
    """PostgreSQL: ``statement()``'s result, or None if it ran longer than ``seconds`` and
    was stopped; the session stays usable (a transaction is kept by a savepoint). SQLite:
    ``statement()``'s result."""
    connection = session.connection()
    dbapi: Any = connection.connection.dbapi_connection
    if not hasattr(dbapi, "cancel_safe"):
        return statement()
    if dbapi.autocommit:
        return statement_guard().run(dbapi, seconds, statement)
    connection.exec_driver_sql("SAVEPOINT hotline_guard")
    result = statement_guard().run(dbapi, seconds, statement)
    undo = "RELEASE" if result is not None else "ROLLBACK TO"
    connection.exec_driver_sql(f"{undo} SAVEPOINT hotline_guard")
    return result


def _interrupt(connection: sqlite3.Connection) -> None:
    with suppress(sqlite3.ProgrammingError):  # closed meanwhile
        connection.interrupt()


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


def merge_text_indexes(engine: Engine, max_steps: int = 100_000) -> int:
    """SQLite: merge each full-text (FTS5) table's segments into one; the number of steps.

    FTS5 writes each transaction's index as a new segment and merges only segments of the
    same size, so a table built by a million inserts keeps ten or more, and a search reads
    each term in every one: on 1M orders a caller's number looked for in the words took
    2.1 ms in 12 segments and 0.15 ms in one. Each step merges about `MERGE_PAGES` pages in
    a transaction of its own (under a second, so writers wait no longer than that); a step
    that changes less than two rows had nothing left to merge. PostgreSQL: nothing to do.
    """
    if engine.dialect.name != "sqlite":
        return 0
    steps = 0
    with engine.connect() as connection:
        tables = connection.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
            " AND sql LIKE 'CREATE VIRTUAL TABLE%USING fts5%'"
        ).scalars()
        dbapi: Any = connection.connection.dbapi_connection
        for name in list(tables):
            for _ in range(max_steps):
                before = dbapi.total_changes
                merge = f'INSERT INTO "{name}"("{name}", rank) VALUES (\'merge\', ?)'
                connection.exec_driver_sql(merge, (-MERGE_PAGES,))
                connection.commit()
                steps += 1
                if dbapi.total_changes - before < 2:
                    break
    return steps


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
