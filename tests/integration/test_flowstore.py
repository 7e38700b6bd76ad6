"""Flow version store and active-flow cache against real SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session

from hotline.db import make_engine
from hotline.settings import Settings
from ivr import flowstore
from ivr.flowstore import (
    ActiveFlowCache,
    FlowStoreError,
    FlowVersion,
    FlowVersionNotFound,
    NoActiveFlow,
)

pytestmark = pytest.mark.integration

FLOW = "main"


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'flows.db'}"
        eng = make_engine(Settings(var_dir=tmp_path, database_url=url))
        FlowVersion.__table__.create(eng)  # type: ignore[attr-defined]
        yield eng
        eng.dispose()
        return
    # A schema of its own in the run's shared database: the back office's flow editor tests
    # keep a flow_version table of their own in its default schema.
    base = str(request.getfixturevalue("pg_database"))
    schema = f"flowstore_{uuid.uuid4().hex[:10]}"
    admin = make_engine(Settings(var_dir=tmp_path, database_url=base))
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in base else "?"
    url = f"{base}{sep}options=-csearch_path%3D{schema}"
    eng = make_engine(Settings(var_dir=tmp_path, database_url=url))
    FlowVersion.__table__.create(eng)  # type: ignore[attr-defined]
    yield eng
    eng.dispose()
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def test_first_publish_is_version_one_and_active(engine: Engine) -> None:
    row = flowstore.publish(engine, FLOW, "name: main\n", "alice")
    assert (row.version, row.is_active, row.published_by) == (1, True, "alice")
    stored = flowstore.active(engine, FLOW)
    assert stored is not None and stored.version == 1 and stored.yaml == "name: main\n"
    assert len(stored.sha256) == 64
    assert stored.created_at.utcoffset() == timedelta(0)


def test_second_publish_activates_it_and_keeps_the_first(engine: Engine) -> None:
    flowstore.publish(engine, FLOW, "v: 1\n", "alice")
    flowstore.publish(engine, FLOW, "v: 2\n", "bob")
    rows = flowstore.versions(engine, FLOW)
    assert [(r.version, r.is_active) for r in rows] == [(1, False), (2, True)]
    assert flowstore.get(engine, FLOW, 1).yaml == "v: 1\n"


def test_activate_rolls_back_and_forward(engine: Engine) -> None:
    flowstore.publish(engine, FLOW, "v: 1\n", "alice")
    flowstore.publish(engine, FLOW, "v: 2\n", "alice")
    assert flowstore.activate(engine, FLOW, 1).is_active
    assert _active_versions(engine) == [1]
    flowstore.activate(engine, FLOW, 1)  # activating the active one keeps it active
    assert _active_versions(engine) == [1]
    flowstore.activate(engine, FLOW, 2)
    assert _active_versions(engine) == [2]


def test_flows_are_independent(engine: Engine) -> None:
    flowstore.publish(engine, "a", "v: 1\n", "alice")
    flowstore.publish(engine, "b", "v: 1\n", "alice")
    assert [r.version for r in flowstore.versions(engine, "b")] == [1]
    assert flowstore.active(engine, "a") is not None


def test_unknown_version_is_an_error_listing_the_known_ones(engine: Engine) -> None:
    flowstore.publish(engine, FLOW, "v: 1\n", "alice")
    with pytest.raises(FlowVersionNotFound, match=r"no version 7; versions: 1"):
        flowstore.activate(engine, FLOW, 7)
    assert _active_versions(engine) == [1]
    with pytest.raises(FlowVersionNotFound):
        flowstore.get(engine, "nope", 1)
    assert flowstore.active(engine, "nope") is None


@pytest.mark.parametrize("yaml_text", ["", "  \n\t"])
def test_publish_rejects_empty_yaml(engine: Engine, yaml_text: str) -> None:
    with pytest.raises(FlowStoreError, match="empty"):
        flowstore.publish(engine, FLOW, yaml_text, "alice")
    assert flowstore.versions(engine, FLOW) == []


def test_database_refuses_two_active_versions(engine: Engine) -> None:
    flowstore.publish(engine, FLOW, "v: 1\n", "alice")
    row = flowstore.publish(engine, FLOW, "v: 2\n", "alice")
    with Session(engine) as session, pytest.raises(IntegrityError):
        session.execute(
            text("UPDATE flow_version SET is_active = :t WHERE flow_id = :f"),
            {"t": True, "f": FLOW},
        )
        session.commit()
    assert _active_versions(engine) == [row.version]


def test_concurrent_publishers_get_distinct_versions(engine: Engine) -> None:
    threads, each = 8, 3
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            barrier.wait()
            for i in range(each):
                flowstore.publish(engine, FLOW, f"by: {n}-{i}\n", f"user{n}")
        except BaseException as exc:  # collected and asserted in the main thread
            errors.append(exc)

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert errors == []
    rows = flowstore.versions(engine, FLOW)
    assert [r.version for r in rows] == list(range(1, threads * each + 1))
    assert _active_versions(engine) == [threads * each]


class _Parsed:
    def __init__(self, yaml_text: str) -> None:
        self.yaml_text = yaml_text


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_cache_reuses_the_object_and_sees_a_new_version_after_the_interval(
    engine: Engine,
) -> None:
    flowstore.publish(engine, FLOW, "v: 1\n", "alice")
    parsed: list[str] = []
    clock = _Clock()
    cache = ActiveFlowCache(engine, _counting_parse(parsed), clock=clock)

    first = cache.get(FLOW)
    assert first.version == 1 and cache.get(FLOW) is first
    flowstore.publish(engine, FLOW, "v: 2\n", "alice")
    clock.now += 0.4
    assert cache.get(FLOW) is first  # within 500 ms: no check yet
    clock.now += 0.2
    second = cache.get(FLOW)
    assert (second.version, second.flow.yaml_text) == (2, "v: 2\n")
    assert first.flow.yaml_text == "v: 1\n"  # a running call keeps what it started with
    clock.now += 1
    assert cache.get(FLOW) is second  # unchanged version: same object, no parse
    assert parsed == ["v: 1\n", "v: 2\n"]


def test_cache_costs_no_query_within_the_interval_and_one_after(engine: Engine) -> None:
    flowstore.publish(engine, FLOW, "v: 1\n", "alice")
    clock = _Clock()
    cache = ActiveFlowCache(engine, _Parsed, check_interval_ms=500, clock=clock)
    cache.get(FLOW)
    with _count_statements(engine) as statements:
        for _ in range(100):
            cache.get(FLOW)
        assert statements == []
        clock.now += 0.5
        cache.get(FLOW)
    assert len(statements) == 1 and "is_active" in statements[0]


def test_cache_with_zero_interval_checks_every_call(engine: Engine) -> None:
    flowstore.publish(engine, FLOW, "v: 1\n", "alice")
    cache = ActiveFlowCache(engine, _Parsed, check_interval_ms=0)
    assert cache.get(FLOW).version == 1
    flowstore.publish(engine, FLOW, "v: 2\n", "alice")
    assert cache.get(FLOW).version == 2
    flowstore.activate(engine, FLOW, 1)
    assert cache.get(FLOW).version == 1


def test_cache_without_an_active_version_raises(engine: Engine) -> None:
    cache = ActiveFlowCache(engine, _Parsed, check_interval_ms=0)
    with pytest.raises(NoActiveFlow, match="publish it first"):
        cache.get(FLOW)


def test_cache_keeps_serving_when_the_check_fails(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    flowstore.publish(engine, FLOW, "v: 1\n", "alice")
    cache = ActiveFlowCache(engine, _Parsed, check_interval_ms=0)
    first = cache.get(FLOW)

    def down(*_: Any) -> int:
        raise OperationalError("SELECT", {}, Exception("connection refused"))

    monkeypatch.setattr(flowstore, "active_version", down)
    assert cache.get(FLOW) is first


def _counting_parse(seen: list[str]) -> Any:
    def parse(yaml_text: str) -> _Parsed:
        seen.append(yaml_text)
        return _Parsed(yaml_text)

    return parse


@contextmanager
def _count_statements(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def on_execute(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)


def _active_versions(engine: Engine) -> list[int]:
    return [r.version for r in flowstore.versions(engine, FLOW) if r.is_active]
