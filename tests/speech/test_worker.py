"""The transcription worker on real Redis, SQLite and PostgreSQL with the real Korean model:
ended calls become transcripts by call id, on the work order whichever comes first; bad
recordings are retried and dead-lettered while the worker goes on."""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType

import pytest
import redis
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from backoffice.db import upgrade
from backoffice.models import CallTranscript, WorkOrder
from backoffice.services.work_orders import take_call
from hotline.callevents.keys import CallEventKeys
from hotline.callevents.model import CallEvent, CallEventType
from hotline.callevents.stream import CallEventLog, RetryPolicy, StreamConsumer, dead_letters
from hotline.db import make_engine
from hotline.settings import load_settings
from hotline.speech.config import SpeechConfig
from hotline.speech.vosk import ModelCache
from hotline.speech.worker import GROUP, TranscriptionWorker
from tests.speech.voice import Speak

pytestmark = pytest.mark.integration

WAGES = "안녕하세요 임금 체불 때문에 전화했어요"
ANSWER = "네 말씀하세요"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    base = tmp_path_factory.mktemp(f"worker-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{base / 'hotline.db'}"
    else:
        url = str(request.getfixturevalue("pg_database"))
    made = make_engine(load_settings(var_dir=base / "var", database_url=url))
    upgrade(made)
    yield made
    made.dispose()


@dataclass
class Rig:
    """A worker, its consumer and the folder recordings must be in."""

    worker: TranscriptionWorker
    consumer: StreamConsumer
    events: CallEventLog
    recordings: Path
    engine: Engine

    def publish(self, call_id: str, **data: object) -> None:
        ev = CallEvent(CallEventType.ENDED, call_id, datetime.now(UTC), dict(data))
        assert self.events.publish(ev) is not None

    def run_until(self, done: object, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if callable(done) and done():
                return
            self.consumer.step(self.worker.handle, block_ms=100)
        raise AssertionError("the worker did not get there in time")

    def transcript(self, call_id: str) -> CallTranscript | None:
        with Session(self.engine) as session:
            return session.exec(
                select(CallTranscript).where(CallTranscript.call_id == call_id)
            ).first()


@pytest.fixture
def rig(
    engine: Engine,
    event_redis: redis.Redis,
    event_keys: CallEventKeys,
    ko_model_dir: Path,
    model_cache: ModelCache,
    tmp_path: Path,
) -> Rig:
    recordings = tmp_path / "recordings"
    (recordings / "calls").mkdir(parents=True)
    config = SpeechConfig(
        models_dir=tmp_path / "models",
        models=MappingProxyType({"ko": ko_model_dir}),
        language="ko",
    )
    worker = TranscriptionWorker(config, recordings, engine, cache=model_cache)
    policy = RetryPolicy(max_attempts=3, base_delay_s=0.1, stale_after_s=30)
    consumer = StreamConsumer(event_redis, GROUP, "test-worker", event_keys, policy)
    consumer.ensure_group()
    return Rig(
        worker,
        consumer,
        CallEventLog(event_redis, tmp_path / "spool", event_keys),
        recordings,
        engine,
    )


def legs(rig: Rig, speak: Speak, call_id: str) -> dict[str, str]:
    """A call recorded as MixMonitor does: the caller leg and the agent leg."""
    folder = rig.recordings / "calls"
    caller, agent = folder / f"{call_id}-caller.wav", folder / f"{call_id}-agent.wav"
    shutil.copy(speak(WAGES, before_s=0.5, after_s=3.0), caller)
    shutil.copy(speak(ANSWER, before_s=3.0, after_s=0.5), agent)
    return {"caller": str(caller), "agent": str(agent)}


def test_an_ended_call_becomes_a_transcript_by_call_id_and_redelivery_overwrites_it(
    rig: Rig, speak: Speak
) -> None:
    call_id = f"{uuid.uuid4().hex[:8]}.1"
    rig.publish(call_id, language="ko", answered=True, recordings=legs(rig, speak, call_id))
    rig.run_until(lambda: rig.transcript(call_id) is not None)
    row = rig.transcript(call_id)
    assert row is not None
    assert row.language == "ko" and row.model == rig.worker.transcriber("ko").model_dir.name
    speakers = {seg["speaker"] for seg in row.segments}
    assert speakers == {"caller", "agent"}, row.segments
    caller_text = " ".join(s["text"] for s in row.segments if s["speaker"] == "caller")
    assert "임금" in caller_text
    assert all(s["end_s"] > s["start_s"] >= 0 for s in row.segments)
    assert row.category == "wage_arrears" and "임금" in row.matched and row.confidence > 0
    assert row.skills == ["wage_arrears"]
    first_update = row.updated_at
    # The same event again (at-least-once delivery): one row, overwritten.
    data = {"language": "ko", "recordings": legs(rig, speak, call_id)}
    rig.worker.handle(CallEvent(CallEventType.ENDED, call_id, datetime.now(UTC), data))
    with Session(rig.engine) as session:
        count = session.exec(
            select(func.count())
            .select_from(CallTranscript)
            .where(CallTranscript.call_id == call_id)
        ).one()
    assert count == 1
    again = rig.transcript(call_id)
    assert (
        again is not None and again.updated_at >= first_update and again.category == "wage_arrears"
    )


def test_the_transcript_reaches_the_work_order_whichever_comes_first(
    rig: Rig, speak: Speak
) -> None:
    before, after = f"{uuid.uuid4().hex[:8]}.2", f"{uuid.uuid4().hex[:8]}.3"
    with Session(rig.engine) as session:
        take_call(session, {"call_id": before, "caller": "13800138000"})
    rig.publish(before, language="ko", recordings=legs(rig, speak, before))
    rig.publish(after, language="ko", recordings=legs(rig, speak, after))
    rig.run_until(lambda: rig.transcript(after) is not None and rig.transcript(before) is not None)
    with Session(rig.engine) as session:
        # The order was there first: the worker copied the transcript onto it.
        first = session.exec(select(WorkOrder).where(WorkOrder.call_id == before)).one()
        assert "임금" in first.transcript and "caller:" in first.transcript
        assert first.transcript.startswith("[topic: wage_arrears")
        # The transcript was there first: the new order takes it, and its topic.
        second = take_call(session, {"call_id": after, "caller": "13800138000"}).order
        assert "임금" in second.transcript and second.category.value == "wage_arrears"


def test_corrupt_and_empty_recordings_are_dead_lettered_after_retries_and_the_rest_is_done(
    rig: Rig, speak: Speak, event_redis: redis.Redis, event_keys: CallEventKeys
) -> None:
    folder = rig.recordings / "calls"
    corrupt, empty = folder / "corrupt-caller.wav", folder / "empty.wav"
    corrupt.write_bytes(b"RIFF\x24\x00\x00\x00WAVEjunk" + bytes(range(256)) * 4)
    empty.write_bytes(b"")
    good = f"{uuid.uuid4().hex[:8]}.4"
    rig.publish("bad-1", language="ko", recordings={"caller": str(corrupt), "agent": str(corrupt)})
    rig.publish("bad-2", language="ko", recordings={"mixed": str(empty)})
    rig.publish(good, language="ko", recordings=legs(rig, speak, good))
    rig.run_until(
        lambda: (
            rig.transcript(good) is not None
            and len(dead_letters(event_redis, GROUP, event_keys)) == 2
            and event_redis.xpending(event_keys.stream(), GROUP)["pending"] == 0
        )
    )
    dead = {d.fields["call_id"]: d for d in dead_letters(event_redis, GROUP, event_keys)}
    assert set(dead) == {"bad-1", "bad-2"}
    assert all(d.attempts == 3 for d in dead.values())
    assert "AudioUnreadable" in dead["bad-1"].error and str(corrupt) in dead["bad-1"].error
    assert "AudioUnreadable" in dead["bad-2"].error
    assert rig.transcript("bad-1") is None


def test_a_recording_outside_the_recordings_folder_or_without_a_model_is_dead_at_once(
    rig: Rig, event_redis: redis.Redis, event_keys: CallEventKeys
) -> None:
    rig.publish("hostile", language="ko", recordings={"caller": "/etc/shadow"})
    rig.publish(
        "no-model", language="xx", recordings={"mixed": str(rig.recordings / "calls" / "x.wav")}
    )
    rig.run_until(lambda: len(dead_letters(event_redis, GROUP, event_keys)) == 2)
    dead = {d.fields["call_id"]: d for d in dead_letters(event_redis, GROUP, event_keys)}
    assert (
        dead["hostile"].attempts == 1 and "outside the recordings folder" in dead["hostile"].error
    )
    assert dead["no-model"].attempts == 1 and "HOTLINE_VOSK_MODELS" in dead["no-model"].error


def test_events_without_recordings_are_acknowledged_and_left_alone(
    rig: Rig, event_redis: redis.Redis, event_keys: CallEventKeys
) -> None:
    rig.publish("abandoned", language="ko", answered=False, recordings={})
    started = CallEvent(CallEventType.STARTED, "started-only", datetime.now(UTC), {})
    rig.events.publish(started)
    rig.run_until(lambda: event_redis.xinfo_groups(event_keys.stream())[0]["lag"] == 0)
    assert event_redis.xpending(event_keys.stream(), GROUP)["pending"] == 0
    assert (
        dead_letters(event_redis, GROUP, event_keys) == [] and rig.transcript("abandoned") is None
    )
