"""SQLite's upkeep: ANALYZE, so lists are read through the right index, and full-text indexes
merged into one segment each, so a search reads each term once."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from backoffice.app import create_app
from backoffice.db import upgrade
from backoffice.services import work_orders as orders
from hotline.db import make_engine, merge_text_indexes, refresh_statistics
from hotline.settings import Settings, load_settings
from tests.backoffice.conftest import SECRET

pytestmark = pytest.mark.integration


def _statistics(engine: Engine) -> list[tuple[str, str]]:
    """SQLite's rows of sqlite_stat1 for the work orders' indexes (none before ANALYZE)."""
    with engine.connect() as connection:
        exists = connection.execute(
            text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")
        ).first()
        if exists is None:
            return []
        rows = connection.execute(
            text("SELECT idx, stat FROM sqlite_stat1 WHERE tbl = 'work_order'")
        )
        return [(str(r[0]), str(r[1])) for r in rows]


def _fresh_sqlite(tmp_path: Path, **settings: object) -> tuple[Engine, Settings]:
    # Its own database: statistics on the suite's shared one would change the plans that
    # other tests assert.
    loaded = load_settings(
        var_dir=tmp_path / "var", database_url=f"sqlite:///{tmp_path / 'bo.db'}", **settings
    )
    engine = make_engine(loaded)
    upgrade(engine)
    with Session(engine) as session:
        for k in range(30):
            orders.create_from_call(session, {"call_id": f"stats-{k}"})
    return engine, loaded


def test_sqlite_statistics_count_the_orders_behind_each_index(tmp_path: Path) -> None:
    engine, _ = _fresh_sqlite(tmp_path)
    assert _statistics(engine) == []
    assert refresh_statistics(engine) is True
    stats = dict(_statistics(engine))
    # "30 30 1": 30 orders, all of one status, each (status, created_at) nearly unique.
    assert stats["ix_work_order_status_created_at_id"].split()[:2] == ["30", "30"]
    engine.dispose()


def _segments(engine: Engine) -> dict[str, int]:
    """Each full-text table's number of index segments."""
    with engine.connect() as connection:
        return {
            name: connection.exec_driver_sql(
                f"SELECT count(DISTINCT segid) FROM {name}_idx"
            ).scalar_one()
            for name in ("work_order_search", "work_order_numbers", "work_order_grams")
        }


def test_merging_leaves_one_segment_per_text_index_and_search_unchanged(tmp_path: Path) -> None:
    engine, _ = _fresh_sqlite(tmp_path)
    for k in range(12):  # a transaction each: a segment each, until FTS5's own merges
        with Session(engine) as session:
            orders.create_from_call(session, {"call_id": f"seg-{k}", "caller": f"1387380{k:04d}"})
    before = _segments(engine)
    assert all(count > 1 for count in before.values()), before
    assert merge_text_indexes(engine) >= len(before)
    assert _segments(engine) == dict.fromkeys(before, 1)
    assert merge_text_indexes(engine) == len(before)  # nothing left: one step each
    with engine.connect() as connection:
        for table in before:
            assert connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one() == 42
        found = connection.exec_driver_sql(
            "SELECT count(*) FROM work_order_numbers WHERE work_order_numbers MATCH '\"1387380\"'"
        )
        assert found.scalar_one() == 12
    engine.dispose()


def test_postgresql_has_no_text_indexes_to_merge(pg_database: str) -> None:
    engine = make_engine(load_settings(database_url=pg_database))
    assert merge_text_indexes(engine) == 0
    engine.dispose()


def test_the_running_app_refreshes_sqlite_statistics(tmp_path: Path) -> None:
    engine, settings = _fresh_sqlite(tmp_path, sqlite_analyze_interval_s=1)
    for k in range(8):  # segments of their own for the app to merge
        with Session(engine) as session:
            orders.create_from_call(session, {"call_id": f"merge-{k}", "caller": "13873801234"})
    assert max(_segments(engine).values()) > 1
    app = create_app(settings, secret_key=SECRET)
    with TestClient(app):
        deadline = time.monotonic() + 15
        while not _statistics(engine) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _statistics(engine), "the app did not ANALYZE within 15 s"
    assert set(_segments(engine).values()) == {1}  # merged before the statistics were taken
    engine.dispose()


def test_an_app_with_the_refresh_off_leaves_them_alone(tmp_path: Path) -> None:
    engine, settings = _fresh_sqlite(tmp_path, sqlite_analyze_interval_s=0)
    with TestClient(create_app(settings, secret_key=SECRET)):
        time.sleep(1.5)
    assert _statistics(engine) == []
    engine.dispose()


def test_postgresql_keeps_its_own_statistics(pg_database: str) -> None:
    engine = make_engine(load_settings(database_url=pg_database))
    assert refresh_statistics(engine) is False  # autovacuum's job
    engine.dispose()
