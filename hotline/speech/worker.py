"""`hotline worker`: transcribes finished calls from the call-event stream into the back office.

Each of N processes (default one per core) runs at low CPU priority, loads its model once and
reads `ended` events through the consumer group "transcription": a call is transcribed by one
of them, a failure is retried with backoff and dead-lettered after the last attempt, and the
jobs of a worker that died are taken over by the others. Writes are idempotent per call id.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import redis
from sqlalchemy.engine import Engine
from sqlmodel import Session

from hotline import logs
from hotline.callevents.model import CallEvent, CallEventType, MalformedEvent
from hotline.callevents.stream import GiveUp, RetryPolicy, StreamConsumer, consumer_name
from hotline.logs import event
from hotline.settings import Settings
from hotline.speech.classify import Classification, RuleBook, classify, load_rules_file
from hotline.speech.config import SpeechConfig, speech_config
from hotline.speech.errors import EmptyAudio, ModelMissing, RulesInvalid
from hotline.speech.rulestore import RulesSource
from hotline.speech.segments import AGENT, CALLER, MIXED, Transcript, merge_call
from hotline.speech.vosk import ModelCache, Transcriber, shared_models, transcriber_for

log = logging.getLogger("hotline.worker")

GROUP = "transcription"
_SUPERVISE_S = 1.0
_STOP_GRACE_S = 30.0


@dataclass(frozen=True)
class Job:
    """What to transcribe for one call: the caller leg (or a whole recording) and the agent leg."""

    call_id: str
    language: str
    caller: Path
    agent: Path | None


def job_for(ev: CallEvent, recordings_dir: Path, default_language: str) -> Job | None:
    """The transcription job an event asks for; None when there is nothing to transcribe.

    Only files under the recordings folder are read: the event comes off a shared stream and a
    path elsewhere (/etc/shadow) is refused as malformed rather than opened.
    """
    if ev.type is not CallEventType.ENDED:
        return None
    raw = ev.data.get("recordings") or {}
    if not isinstance(raw, Mapping):
        raise MalformedEvent("an ended event's recordings must be an object")
    legs = {k: _inside(str(v), recordings_dir) for k, v in raw.items() if v}
    message = ev.data.get("message")
    language = str(ev.data.get("language") or default_language)
    if "caller" in legs:
        return Job(ev.call_id, language, legs["caller"], legs.get("agent"))
    if "mixed" in legs:
        return Job(ev.call_id, language, legs["mixed"], None)
    if isinstance(message, str) and message:
        return Job(ev.call_id, language, _inside(message, recordings_dir), None)
    return None


def _inside(path: str, recordings_dir: Path) -> Path:
    resolved = Path(path).resolve()
    if not resolved.is_relative_to(recordings_dir.resolve()):
        raise MalformedEvent(f"recording {path} is outside the recordings folder")
    return resolved


class TranscriptionWorker:
    """One process's worker: the models it loaded, the rules, the database; handles events."""

    def __init__(
        self,
        config: SpeechConfig,
        recordings_dir: Path,
        engine: Engine,
        *,
        cache: ModelCache | None = None,
        rules: RuleBook | Callable[[], RuleBook] | None = None,
    ) -> None:
        self.config = config
        self.recordings_dir = recordings_dir
        self.engine = engine
        self.cache = cache or shared_models()
        if rules is None:
            # The admin's saved rules (database), else the rules file; followed while running.
            rules = RulesSource(engine, load_rules_file(config.rules)).get
        self._rules = rules if callable(rules) else (lambda: rules)
        self._transcribers: dict[str, Transcriber] = {}
        self.done = 0

    @property
    def rules(self) -> RuleBook:
        return self._rules()

    def preload(self) -> None:
        """Load the default language's model now, so the first call doesn't wait for it."""
        _ = self.transcriber(self.config.language).model

    def transcriber(self, language: str) -> Transcriber:
        found = self._transcribers.get(language)
        if found is None:
            try:
                found = transcriber_for(self.config, language, cache=self.cache)
            except ModelMissing as exc:
                raise GiveUp(str(exc)) from None  # retrying won't install the model
            self._transcribers[language] = found
        return found

    def handle(self, ev: CallEvent) -> None:
        job = job_for(ev, self.recordings_dir, self.config.language)
        if job is None:
            return
        started = time.monotonic()
        transcriber = self.transcriber(job.language)
        transcript = transcribe_job(transcriber, job)
        verdict = self._classify(transcript)
        self._store(job, transcriber, transcript, verdict)
        self.done += 1
        event(log, "worker.transcribed", call_id=job.call_id, language=job.language,
              segments=len(transcript.segments), audio_s=round(transcript.audio_s, 1),
              seconds=round(time.monotonic() - started, 2),
              category=verdict.category if verdict else None)  # fmt: skip

    def _classify(self, transcript: Transcript) -> Classification | None:
        try:
            rules = self.rules.for_language(transcript.language)
        except RulesInvalid:
            return None  # no rules for this language: a transcript without a topic
        # What the call is about is what the caller says; a single recording is all there is.
        return classify(transcript.text_of(CALLER) or transcript.text, rules)

    def _store(
        self,
        job: Job,
        transcriber: Transcriber,
        transcript: Transcript,
        verdict: Classification | None,
    ) -> None:
        from backoffice.services.transcripts import TranscriptRecord, store_transcript

        record = TranscriptRecord(
            call_id=job.call_id,
            language=transcript.language,
            segments=transcript.to_dict()["segments"],  # type: ignore[arg-type]
            text=transcript.text,
            duration_s=round(transcript.audio_s, 3),
            model=transcriber.model_dir.name,
            category=verdict.category.value if verdict and verdict.category else None,
            skills=verdict.skills if verdict else (),
            matched=verdict.matched if verdict else [],
            confidence=round(verdict.confidence, 3) if verdict else 0.0,
        )
        with Session(self.engine) as session:
            store_transcript(session, record)


def transcribe_job(transcriber: Transcriber, job: Job) -> Transcript:
    """Both legs; an agent leg without a sample (the seat sent no audio) counts as silence,
    while any other unreadable leg fails the job so it is retried."""
    if job.agent is None:
        return transcriber.transcribe(job.caller, MIXED)
    caller = transcriber.transcribe(job.caller, CALLER)
    try:
        agent = transcriber.transcribe(job.agent, AGENT)
    except EmptyAudio:
        agent = Transcript((), 0.0, caller.language)
    return merge_call(caller, agent)


def retry_policy(settings: Settings) -> RetryPolicy:
    return RetryPolicy(
        max_attempts=settings.speech_worker_attempts,
        base_delay_s=settings.speech_worker_retry_seconds,
        max_delay_s=max(300.0, settings.speech_worker_retry_seconds),
        stale_after_s=settings.speech_worker_stale_seconds,
    )


def check_models(settings: Settings) -> SpeechConfig:
    """The speech settings, with the default language's model found (ModelMissing says what
    to set), before any process is started."""
    config = speech_config(settings)
    transcriber_for(config)
    return config


def worker_main(settings: Settings, slot: int, stop: Any = None) -> None:
    """A worker process: nice, one model, consume until SIGTERM (or `stop` is set)."""
    logs.configure(settings.log_level)
    if settings.speech_worker_nice:
        os.nice(settings.speech_worker_nice)
    quit_ = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: quit_.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor decides when to stop
    from hotline.db import make_engine

    worker = TranscriptionWorker(
        speech_config(settings), settings.recordings_dir, make_engine(settings)
    )
    worker.preload()
    client = redis.Redis.from_url(settings.redis_url, decode_responses=True)
    name = consumer_name(f"w{slot}")
    consumer = StreamConsumer(client, GROUP, name, retry=retry_policy(settings))
    event(log, "worker.ready", slot=slot, pid=os.getpid(), consumer=consumer.consumer)
    consumer.ensure_group()
    while not quit_.is_set() and not (stop is not None and stop.is_set()):
        try:
            consumer.step(worker.handle, block_ms=1000)
        except redis.RedisError as exc:
            event(log, "worker.redis_down", level=logging.WARNING, error=str(exc))
            quit_.wait(2.0)
    consumer.leave()
    event(log, "worker.stopped", slot=slot, transcribed=worker.done)


class WorkerPool:
    """Starts N worker processes and restarts any that dies, until stopped."""

    def __init__(self, settings: Settings, workers: int | None = None) -> None:
        self.settings = settings
        self.size = workers or settings.speech_workers or os.cpu_count() or 1
        # spawn: each child starts clean and loads its own model; nothing shared by fork.
        self._ctx = multiprocessing.get_context("spawn")
        self.processes: dict[int, BaseProcess] = {}
        self.restarts = 0

    def start(self) -> None:
        for slot in range(self.size):
            self._spawn(slot)

    def _spawn(self, slot: int) -> None:
        proc = self._ctx.Process(
            target=worker_main, args=(self.settings, slot), name=f"hotline-worker-{slot}"
        )
        proc.start()
        self.processes[slot] = proc

    def supervise(self, stop: threading.Event) -> None:
        while not stop.wait(_SUPERVISE_S):
            for slot, proc in list(self.processes.items()):
                if not proc.is_alive():
                    event(log, "worker.died", level=logging.WARNING, slot=slot, pid=proc.pid,
                          exitcode=proc.exitcode)  # fmt: skip
                    self.restarts += 1
                    self._spawn(slot)

    def stop(self) -> None:
        for proc in self.processes.values():
            if proc.is_alive():
                proc.terminate()  # SIGTERM: the job in hand is finished first
        deadline = time.monotonic() + _STOP_GRACE_S
        for proc in self.processes.values():
            proc.join(max(0.1, deadline - time.monotonic()))
            if proc.is_alive():
                proc.kill()  # its job stays pending and is taken over later
                proc.join(5)
