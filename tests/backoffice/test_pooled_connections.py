"""PostgreSQL: a pooled connection that has sat idle is pinged before a request gets it, and a
dead one is replaced unseen; one handed back moments ago goes out without a round trip."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from hotline.db import PING_AFTER_IDLE_S, make_engine
from hotline.settings import load_settings

pytestmark = pytest.mark.integration


@pytest.fixture
def engine(pg_database: str, tmp_path: object) -> Iterator[Engine]:
    made = make_engine(load_settings(database_url=pg_database))
    yield made
    made.dispose()


def backend_pid(conn: Connection) -> int:
    return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def terminate(pg_database: str, pid: int) -> None:
    """Ends a server process from outside, as a restart or an idle-session reaper does."""
    other = make_engine(load_settings(database_url=pg_database))
    try:
        with other.connect() as conn:
            ended = conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            assert ended.scalar_one() is True
            conn.commit()
    finally:
        other.dispose()


def test_an_idle_connection_that_died_is_replaced_before_use(
    engine: Engine, pg_database: str
) -> None:
    with engine.connect() as conn:
        first = backend_pid(conn)
    terminate(pg_database, first)
    time.sleep(PING_AFTER_IDLE_S + 0.2)
    with engine.connect() as conn:  # the pool's only connection, pinged, found dead, replaced
        second = backend_pid(conn)
        assert conn.execute(text("SELECT 41 + 1")).scalar_one() == 42
    assert second != first


def test_a_connection_used_a_moment_ago_is_not_pinged(engine: Engine, pg_database: str) -> None:
    # The cost of skipping the ping: a server process that ends within the idle allowance
    # fails its connection's next statement. Seen here, it proves no ping ran.
    with engine.connect() as conn:
        first = backend_pid(conn)
    terminate(pg_database, first)
    with pytest.raises(OperationalError), engine.connect() as conn:
        backend_pid(conn)
    # The pool has discarded it: the next request gets a new connection.
    with engine.connect() as conn:
        assert backend_pid(conn) != first
