"""`hotline worker` as it runs: niced processes that survive a SIGKILL mid-job without losing
it, and one clear line when no model is set up."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlmodel import Session, select

from backoffice.models import CallTranscript
from hotline.callevents.keys import CallEventKeys
from hotline.callevents.model import CallEvent, CallEventType
from hotline.callevents.stream import CallEventLog, dead_letters
from hotline.db import make_engine
from hotline.settings import load_settings
from hotline.speech.worker import GROUP
from tests.conftest import eventually
from tests.speech.voice import Speak

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
LONG_TALK = " ".join(["안녕하세요 임금 체불 때문에 전화했어요"] * 8)


def worker_env(
    tmp_path: Path, redis_url: str, models: dict[str, str], **extra: str
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env.update(
        HOTLINE_VAR_DIR=str(tmp_path / "var"),
        HOTLINE_RECORDINGS_DIR=str(tmp_path / "recordings"),
        HOTLINE_DATABASE_URL=f"sqlite:///{tmp_path / 'hotline.db'}",
        HOTLINE_REDIS_URL=redis_url,
        HOTLINE_VOSK_MODELS=json.dumps(models),
        HOTLINE_SPEECH_LANGUAGE="ko",
        PYTHONPATH=str(REPO),
        **extra,
    )
    return env


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    r = redis.Redis.from_url(redis_url, decode_responses=True)
    keys = CallEventKeys()
    # `hotline worker` uses the real key names: start from an empty stream in the test db.
    r.delete(keys.stream(), keys.dead_letters(GROUP))
    yield r
    r.delete(keys.stream(), keys.dead_letters(GROUP))
    r.close()


def nice_of(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[16])  # field 19 of stat, counted after the command name


def pending(client: redis.Redis) -> list[dict[str, Any]]:
    try:
        rows = client.xpending_range(CallEventKeys().stream(), GROUP, min="-", max="+", count=10)
    except redis.ResponseError:  # NOGROUP: no worker has started yet
        return []
    return list(rows)


def test_a_worker_killed_mid_job_loses_nothing_and_workers_run_niced(
    tmp_path: Path, redis_url: str, client: redis.Redis, ko_model_dir: Path, speak: Speak
) -> None:
    calls = tmp_path / "recordings" / "calls"
    calls.mkdir(parents=True)
    long_leg = calls / "long-caller.wav"
    long_leg.write_bytes(speak(LONG_TALK, before_s=0.5, after_s=0.5).read_bytes())
    env = worker_env(
        tmp_path, redis_url, {"ko": str(ko_model_dir)},
        HOTLINE_SPEECH_WORKERS="1", HOTLINE_SPEECH_WORKER_STALE_SECONDS="3",
        HOTLINE_SPEECH_WORKER_RETRY_SECONDS="0.5",
    )  # fmt: skip
    log = (tmp_path / "worker.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "hotline.cli", "worker"], env=env, stdout=log, stderr=log, cwd=REPO
    )
    try:
        events = CallEventLog(client, tmp_path / "spool")
        data = {"language": "ko", "answered": True, "recordings": {"mixed": str(long_leg)}}
        events.publish(CallEvent(CallEventType.ENDED, "long.1", datetime.now(UTC), data))
        # A worker took the job and is transcribing it: its pid is in its consumer name.
        assert eventually(lambda: len(pending(client)) == 1, timeout=90), (
            tmp_path / "worker.log"
        ).read_text()
        holder = str(pending(client)[0]["consumer"])
        victim = int(holder.rsplit("-", 1)[1])
        assert nice_of(victim) == 10
        os.kill(victim, signal.SIGKILL)
        engine = make_engine(load_settings(database_url=env["HOTLINE_DATABASE_URL"]))

        def transcribed() -> bool:
            with Session(engine) as session:
                return (
                    session.exec(
                        select(CallTranscript).where(CallTranscript.call_id == "long.1")
                    ).first()
                    is not None
                )

        # The supervisor starts a new process, which takes the dead one's job over.
        assert eventually(transcribed, timeout=180), (tmp_path / "worker.log").read_text()
        # The entry is acknowledged just after the write: give it that moment.
        assert eventually(lambda: pending(client) == [], timeout=10)
        assert dead_letters(client, GROUP) == []
        with Session(engine) as session:
            row = session.exec(select(CallTranscript)).one()
        assert "임금" in row.text and row.category == "wage_arrears"
        lines = (tmp_path / "worker.log").read_text().splitlines()
        assert any('"worker.died"' in line for line in lines)
        assert sum('"worker.transcribed"' in line for line in lines) == 1
        engine.dispose()
        consumers = client.xinfo_consumers(CallEventKeys().stream(), GROUP)
        workers = [int(str(c["name"]).rsplit("-", 1)[1]) for c in consumers]
        assert victim not in workers or not _alive(victim)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
        log.close()
    # A clean stop leaves no worker process behind, and no consumer name in the group.
    assert workers and not any(_alive(pid) for pid in workers if pid != victim)
    names = [c["name"] for c in client.xinfo_consumers(CallEventKeys().stream(), GROUP)]
    assert all(str(pid) not in " ".join(names) for pid in workers if pid != victim)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


def test_without_a_model_the_worker_stops_with_one_line_naming_the_setting(
    tmp_path: Path, redis_url: str
) -> None:
    env = worker_env(tmp_path, redis_url, {"ko": str(tmp_path / "no-such-model")})
    done = subprocess.run(
        [sys.executable, "-m", "hotline.cli", "worker"], env=env, capture_output=True,
        text=True, timeout=60, cwd=REPO,
    )  # fmt: skip
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "HOTLINE_VOSK_MODELS" in lines[0] and "no-such-model" in lines[0]
