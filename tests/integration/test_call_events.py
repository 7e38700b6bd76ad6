"""The call-event stream on real Redis: spooling while Redis is down, consumer groups,
retries with backoff, dead letters, a dead consumer's jobs taken over; live figures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis

from acd.keys import AcdKeys
from acd.model import Agent, AgentState, Role, WaitingCall
from acd.store import AcdStore
from hotline.callevents.figures import LiveFigures, snapshot
from hotline.callevents.keys import CallEventKeys
from hotline.callevents.model import CallEvent, CallEventType
from hotline.callevents.stream import (
    CallEventLog,
    RetryPolicy,
    StreamConsumer,
    dead_letters,
    read_all,
)

pytestmark = pytest.mark.integration


def ended(call_id: str, **data: object) -> CallEvent:
    return CallEvent(CallEventType.ENDED, call_id, datetime.now(UTC), dict(data))


def test_events_are_kept_in_order(
    event_redis: redis.Redis, event_keys: CallEventKeys, tmp_path: Path
) -> None:
    log = CallEventLog(event_redis, tmp_path, event_keys)
    for n in range(5):
        assert log.publish(ended(f"c{n}", n=n)) is not None
    assert [e.call_id for e in read_all(event_redis, event_keys)] == [f"c{n}" for n in range(5)]


def test_events_wait_on_disk_while_redis_is_down_and_none_is_lost(
    event_redis: redis.Redis, event_keys: CallEventKeys, tmp_path: Path, refused_port: int
) -> None:
    down = redis.Redis(host="127.0.0.1", port=refused_port, socket_connect_timeout=0.2)
    offline = CallEventLog(down, tmp_path, event_keys)
    assert offline.publish(ended("lost-1")) is None
    assert offline.publish(ended("lost-2", note="欠薪")) is None
    assert (tmp_path / "call-events.spool.jsonl").exists()
    # Redis back: the next publish sends the spool first, in order.
    online = CallEventLog(event_redis, tmp_path, event_keys)
    online.publish(ended("after"))
    events = read_all(event_redis, event_keys)
    assert [e.call_id for e in events] == ["lost-1", "lost-2", "after"]
    assert events[1].data == {"note": "欠薪"}
    assert not (tmp_path / "call-events.spool.jsonl").exists()


def consumer(
    event_redis: redis.Redis, event_keys: CallEventKeys, name: str, **retry: float
) -> StreamConsumer:
    policy = RetryPolicy(**retry) if retry else RetryPolicy(base_delay_s=0.05, stale_after_s=0.3)
    return StreamConsumer(event_redis, "backoffice", name, event_keys, policy)


def test_a_group_created_late_still_sees_every_kept_event(
    event_redis: redis.Redis, event_keys: CallEventKeys, tmp_path: Path
) -> None:
    log = CallEventLog(event_redis, tmp_path, event_keys)
    log.publish(ended("before-any-consumer"))
    seen: list[str] = []
    c = consumer(event_redis, event_keys, "w1")
    c.ensure_group()
    c.step(lambda e: seen.append(e.call_id), block_ms=100)
    assert seen == ["before-any-consumer"]
    # Acknowledged: not delivered again.
    c.step(lambda e: seen.append(e.call_id), block_ms=100)
    assert seen == ["before-any-consumer"]


def test_a_failing_handler_is_retried_with_backoff_then_succeeds(
    event_redis: redis.Redis, event_keys: CallEventKeys, tmp_path: Path
) -> None:
    CallEventLog(event_redis, tmp_path, event_keys).publish(ended("flaky"))
    attempts: list[float] = []

    def handle(_: CallEvent) -> None:
        attempts.append(time.monotonic())
        if len(attempts) < 3:
            raise OSError("database is locked")

    c = consumer(event_redis, event_keys, "w1", base_delay_s=0.2, max_attempts=5)
    c.ensure_group()
    deadline = time.monotonic() + 10
    while len(attempts) < 3 and time.monotonic() < deadline:
        c.step(handle, block_ms=50)
    assert len(attempts) == 3
    assert attempts[1] - attempts[0] >= 0.2 and attempts[2] - attempts[1] >= 0.4
    assert event_redis.xpending(event_keys.stream(), "backoffice")["pending"] == 0
    assert dead_letters(event_redis, "backoffice", event_keys) == []


def test_an_entry_that_keeps_failing_goes_to_the_dead_letters_and_the_rest_flows(
    event_redis: redis.Redis, event_keys: CallEventKeys, tmp_path: Path
) -> None:
    log = CallEventLog(event_redis, tmp_path, event_keys)
    log.publish(ended("poison"))
    log.publish(ended("fine"))
    event_redis.xadd(event_keys.stream(), {"type": "garbage"})  # not a call event at all
    handled: list[str] = []

    def handle(e: CallEvent) -> None:
        if e.call_id == "poison":
            raise ValueError("corrupt recording")
        handled.append(e.call_id)

    c = consumer(event_redis, event_keys, "w1", base_delay_s=0.01, max_attempts=3)
    c.ensure_group()
    deadline = time.monotonic() + 10
    while (
        len(dead_letters(event_redis, "backoffice", event_keys)) < 2 and time.monotonic() < deadline
    ):
        c.step(handle, block_ms=20)
    assert handled == ["fine"]
    dead = {
        d.fields.get("call_id", "-"): d for d in dead_letters(event_redis, "backoffice", event_keys)
    }
    assert dead["poison"].attempts == 3 and "corrupt recording" in dead["poison"].error
    assert dead["-"].attempts == 1 and "not a call event" in dead["-"].error
    assert event_redis.xpending(event_keys.stream(), "backoffice")["pending"] == 0


def test_a_dead_consumers_job_is_taken_over_and_not_lost(
    event_redis: redis.Redis, event_keys: CallEventKeys, tmp_path: Path
) -> None:
    CallEventLog(event_redis, tmp_path, event_keys).publish(ended("half-done"))
    dying = consumer(event_redis, event_keys, "dying")
    dying.ensure_group()
    # The consumer reads the entry and dies before acknowledging it.
    event_redis.xreadgroup("backoffice", "dying", {event_keys.stream(): ">"}, count=1)
    survivor = consumer(event_redis, event_keys, "survivor")
    seen: list[str] = []
    survivor.step(lambda e: seen.append(e.call_id), block_ms=50)
    assert seen == []  # not yet stale: the other consumer may still be working on it
    time.sleep(0.35)
    survivor.step(lambda e: seen.append(e.call_id), block_ms=50)
    assert seen == ["half-done"]


def test_two_consumers_share_the_events_without_duplicates(
    event_redis: redis.Redis, event_keys: CallEventKeys, tmp_path: Path
) -> None:
    log = CallEventLog(event_redis, tmp_path, event_keys)
    for n in range(200):
        log.publish(ended(f"c{n}"))
    seen: list[str] = []
    lock = threading.Lock()

    def handle(e: CallEvent) -> None:
        with lock:
            seen.append(e.call_id)

    stop = threading.Event()
    workers = [consumer(event_redis, event_keys, f"w{i}", stale_after_s=60) for i in range(2)]
    workers[0].ensure_group()
    threads = [threading.Thread(target=w.run, args=(handle, stop, 50)) for w in workers]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 10
    while len(seen) < 200 and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    for t in threads:
        t.join(5)
    assert sorted(seen) == sorted(f"c{n}" for n in range(200))


def test_live_figures_count_service_level_and_abandonment(
    event_redis: redis.Redis, event_keys: CallEventKeys
) -> None:
    acd = AcdStore(event_redis, keys=AcdKeys(prefix=event_keys.prefix + "acd:"))
    figures = LiveFigures(event_redis, "Asia/Shanghai", event_keys)
    now = time.time()
    for wait in (3.0, 14.0, 18.0, 40.0):
        figures.queued("wage_arrears", now)
        figures.answered("wage_arrears", now, wait)
    figures.queued("wage_arrears", now)
    figures.abandoned("wage_arrears", now)
    acd.enqueue(WaitingCall("waiting-1", "wage_arrears", {"wage_arrears": 1}, enqueued_at=now - 30))
    acd.upsert_agent(Agent("1003", Role.OPERATOR, {"wage_arrears": 1}, registered=True))
    acd.set_state("1003", AgentState.PAUSED, "lunch")
    board = snapshot(figures, acd, now)
    (queue,) = board["queues"]
    assert queue["queue"] == "wage_arrears"
    assert queue["waiting"] == 1 and 29 <= queue["longest_wait_s"] <= 31
    assert queue["answered"] == 4 and queue["abandoned"] == 1 and queue["offered"] == 5
    assert queue["service_level"] == {"15": 0.4, "20": 0.6}
    assert queue["abandon_rate"] == 0.2 and queue["average_wait_s"] == 18.8
    (seat,) = board["seats"]
    assert seat["seat"] == "1003" and seat["state"] == "paused" and seat["reason"] == "lunch"
    assert 0 <= seat["in_state_s"] < 5


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, **env}
    return subprocess.run([sys.executable, "-m", "hotline.cli", *args], env=full,
                          capture_output=True, text=True, timeout=60)  # fmt: skip


def test_hotline_events_lists_a_calls_events_and_the_board(
    redis_url: str, event_redis: redis.Redis, tmp_path: Path
) -> None:
    call_id = f"cli-{uuid.uuid4().hex[:8]}"
    CallEventLog(event_redis, tmp_path).publish(ended(call_id, caller="13800001234"))
    env = {"HOTLINE_REDIS_URL": redis_url, "HOTLINE_VAR_DIR": str(tmp_path)}
    listed = run_cli("events", "list", "--call", call_id, env=env)
    assert listed.returncode == 0, listed.stderr
    (row,) = json.loads(listed.stdout)
    assert row["type"] == "ended" and row["data"] == {"caller": "13800001234"}
    board = run_cli("events", "figures", env=env)
    assert board.returncode == 0 and set(json.loads(board.stdout)) == {"at", "queues", "seats"}


def test_hotline_events_with_redis_down_is_one_line(tmp_path: Path, refused_port: int) -> None:
    env = {"HOTLINE_REDIS_URL": f"redis://127.0.0.1:{refused_port}/0",
           "HOTLINE_VAR_DIR": str(tmp_path)}  # fmt: skip
    result = run_cli("events", "dead", "backoffice", env=env)
    assert result.returncode == 2
    assert result.stderr.startswith("hotline: Redis is not answering")
    assert len(result.stderr.strip().splitlines()) == 1
