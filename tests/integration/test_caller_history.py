"""Repeat callers are counted from the IVR's own call records (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hotline.db import make_engine
from hotline.settings import load_settings
from ivr import callrecord
from ivr.callrecord import CallRecord

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_earlier_calls_of_a_number_within_the_days(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = (f"sqlite:///{tmp_path / 'ivr.db'}" if backend == "sqlite"
           else str(request.getfixturevalue("pg_database")))  # fmt: skip
    engine = make_engine(load_settings(var_dir=tmp_path, database_url=url))
    # Only its own table: the PostgreSQL database is shared with the other tests of the run.
    table = CallRecord.__table__  # type: ignore[attr-defined]
    table.create(engine)
    try:
        ages = {"a": [1, 2, 6], "b": [8, 9], "": [1]}
        for caller, days in ages.items():
            for n, age in enumerate(days):
                when = NOW - timedelta(days=age)
                row = CallRecord(uniqueid=f"{caller}{n}.{age}", caller=caller, started_at=when)
                callrecord.save(engine, row)
        assert callrecord.earlier_calls(engine, "a", 7, NOW) == 3
        assert callrecord.earlier_calls(engine, "b", 7, NOW) == 0
        assert callrecord.earlier_calls(engine, "", 7, NOW) == 0  # withheld numbers are nobody
        assert callrecord.earlier_calls(engine, "nobody", 7, NOW) == 0
    finally:
        table.drop(engine)
        engine.dispose()
