"""The call-event consumer on real Redis, on SQLite and PostgreSQL: one order per call."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlmodel import Session, select

from backoffice.domain.deadlines import Category
from backoffice.intake import GROUP, OrderIntake
from backoffice.models import WorkOrder
from backoffice.services.work_orders import WorkOrderConfig
from hotline.callevents.keys import CallEventKeys
from hotline.callevents.model import CallEvent, CallEventType
from hotline.callevents.stream import CallEventLog, RetryPolicy, StreamConsumer, dead_letters
from hotline.db import make_engine
from hotline.settings import load_settings
from tests.backoffice.conftest import Backend

pytestmark = pytest.mark.integration


def ended(call_id: str, **data: Any) -> CallEvent:
    return CallEvent(CallEventType.ENDED, call_id, datetime.now(UTC), data)


def drain(consumer: StreamConsumer, intake: OrderIntake, rounds: int = 5) -> None:
    for _ in range(rounds):
        consumer.step(intake, block_ms=20)


def orders(db: Backend) -> list[WorkOrder]:
    with Session(db.engine) as session:
        return list(session.exec(select(WorkOrder).order_by(WorkOrder.id)).all())  # type: ignore[arg-type]


def test_every_ended_call_becomes_one_order_even_when_delivered_twice(
    db: Backend, event_redis: redis.Redis, event_keys: CallEventKeys, tmp_path: Path
) -> None:
    log = CallEventLog(event_redis, tmp_path, event_keys)
    log.publish(CallEvent(CallEventType.QUEUED, "c.1", datetime.now(UTC), {"queue": "legal"}))
    log.publish(ended("c.1", caller="13807381234", variables={"topic": "wage_arrears"},
                      answered=True, agent="1003", wait_s=4.0, talk_s=60.0))  # fmt: skip
    log.publish(ended("c.2", caller="", result="hangup"))
    log.publish(ended("c.1", caller="13807381234"))  # a re-delivery, as after a crash
    intake = OrderIntake(db.engine, WorkOrderConfig())
    consumer = StreamConsumer(event_redis, GROUP, "t1", event_keys, RetryPolicy(base_delay_s=0.05))
    consumer.ensure_group()
    drain(consumer, intake)
    taken = orders(db)
    assert [o.call_id for o in taken] == ["c.1", "c.2"]
    first = taken[0]
    assert first.category is Category.WAGE_ARREARS and first.caller_phone == "13807381234"
    assert first.summary.startswith("来电：欠薪求助") and "坐席1003接听" in first.summary
    assert first.org_unit_id == db.units["娄底市总工会"]  # 0738: Loudi, from the number
    assert taken[1].category is Category.OTHER
    assert event_redis.xpending(event_keys.stream(), GROUP)["pending"] == 0


def test_an_event_the_service_refuses_is_dead_lettered_and_the_rest_flows(
    db: Backend, event_redis: redis.Redis, event_keys: CallEventKeys, tmp_path: Path
) -> None:
    log = CallEventLog(event_redis, tmp_path, event_keys)
    log.publish(ended("x" * 500))  # longer than any call id the orders keep
    log.publish(ended("c.3", caller="'; DROP TABLE work_order; --"))
    intake = OrderIntake(db.engine, WorkOrderConfig())
    consumer = StreamConsumer(event_redis, GROUP, "t1", event_keys, RetryPolicy(base_delay_s=0.05))
    consumer.ensure_group()
    drain(consumer, intake)
    assert [o.call_id for o in orders(db)] == ["c.3"]
    (dead,) = dead_letters(event_redis, GROUP, event_keys)
    assert dead.attempts == 1 and "call_id" in dead.error


def test_a_database_that_is_down_leaves_the_event_waiting_until_it_is_back(
    db: Backend, event_redis: redis.Redis, event_keys: CallEventKeys, tmp_path: Path,
    refused_port: int,
) -> None:  # fmt: skip
    CallEventLog(event_redis, tmp_path, event_keys).publish(ended("c.4", caller="13800001111"))
    down_url = (
        f"postgresql://nobody@127.0.0.1:{refused_port}/none"
        if db.name == "postgresql"
        else f"sqlite:///{tmp_path / 'missing' / 'dir' / 'x.db'}"
    )
    broken = make_engine(load_settings(var_dir=tmp_path, database_url=down_url))
    if db.name == "sqlite":
        (tmp_path / "missing" / "dir").rmdir()  # make_engine made it; an unopenable path now
    policy = RetryPolicy(base_delay_s=0.1, max_attempts=10)
    consumer = StreamConsumer(event_redis, GROUP, "t1", event_keys, policy)
    consumer.ensure_group()
    drain(consumer, OrderIntake(broken, WorkOrderConfig()), rounds=2)
    assert event_redis.xpending(event_keys.stream(), GROUP)["pending"] == 1
    assert dead_letters(event_redis, GROUP, event_keys) == []
    time.sleep(0.3)
    drain(consumer, OrderIntake(db.engine, WorkOrderConfig()))
    assert [o.call_id for o in orders(db)] == ["c.4"]
    assert event_redis.xpending(event_keys.stream(), GROUP)["pending"] == 0
