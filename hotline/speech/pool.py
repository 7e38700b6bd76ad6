"""Batch transcription: worker processes at low CPU priority, each loading the model once.

Recordings are transcribed after the call, so the pool runs beside live calls: `nice` keeps it
from taking CPU the IVR and Asterisk need. Processes rather than threads keep a slow or crashing
recording from stalling the others; the cost is one model in memory per worker.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from hotline.speech.errors import ModelMissing, SpeechError
from hotline.speech.models import inspect_model
from hotline.speech.segments import AGENT, CALLER, MIXED, Transcript, merge_call
from hotline.speech.vosk import Transcriber

DEFAULT_NICE = 10


@dataclass(frozen=True)
class CallLegs:
    """A call's recordings: the caller leg (or the whole call) and the agent leg if separate."""

    caller: Path
    agent: Path | None = None


@dataclass(frozen=True)
class PoolResult:
    """One call's transcript, or the one-line reason it has none."""

    legs: CallLegs
    transcript: Transcript | None
    error: str | None
    worker_pids: tuple[int, ...]
    # Peak resident memory of each worker that worked on the call, in kB, when it finished.
    worker_peak_rss_kb: tuple[int, ...]


@dataclass(frozen=True)
class _LegResult:
    transcript: Transcript | None
    error: str | None
    worker_pid: int
    worker_peak_rss_kb: int


class TranscriptionPool:
    """`workers` processes (default: one per core) transcribing calls with one model."""

    def __init__(
        self,
        model_dir: Path,
        language: str,
        *,
        workers: int | None = None,
        nice: int = DEFAULT_NICE,
        skip_silence: bool = False,
        recognizer_reuse: int = 0,
    ) -> None:
        problem = inspect_model(model_dir).problem
        if problem is not None:
            raise ModelMissing(f"no Vosk model in {model_dir} ({problem})")
        self.workers = workers or os.cpu_count() or 1
        # spawn, not fork: the parent may hold threads (a server) and a loaded model; a child
        # started clean loads its own model once, in its initializer.
        self._executor = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(model_dir, language, nice, skip_silence, recognizer_reuse),
        )

    def transcribe_calls(self, calls: Iterable[CallLegs]) -> Iterator[PoolResult]:
        """Results in the order the calls were given, each as soon as it and those before it
        are done.

        Legs, not calls, are the pool's tasks, longest first: a call's two legs run side by
        side, and no worker is left with one long recording after the others are done.
        """
        todo = list(calls)
        legs = [(leg, speaker) for call in todo for leg, speaker in _legs(call)]
        legs.sort(key=lambda item: _size(item[0]), reverse=True)
        futures = {item: self._executor.submit(_transcribe_leg, *item) for item in legs}
        for call in todo:
            parts = [futures[item].result() for item in _legs(call)]
            yield _call_result(call, parts)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> TranscriptionPool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _legs(call: CallLegs) -> list[tuple[Path, str]]:
    if call.agent is None:
        return [(call.caller, MIXED)]
    return [(call.caller, CALLER), (call.agent, AGENT)]


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # the worker reports it unreadable


def _call_result(call: CallLegs, parts: list[_LegResult]) -> PoolResult:
    pids = tuple(p.worker_pid for p in parts)
    peaks = tuple(p.worker_peak_rss_kb for p in parts)
    errors = [p.error for p in parts if p.error is not None]
    if errors:
        return PoolResult(call, None, errors[0], pids, peaks)
    transcripts = [p.transcript for p in parts if p.transcript is not None]
    whole = transcripts[0] if len(transcripts) == 1 else merge_call(*transcripts)
    return PoolResult(call, whole, None, pids, peaks)


# Set once in each worker process by its initializer; never in the parent.
_worker: Transcriber | None = None


def _start_worker(
    model_dir: Path, language: str, nice: int, skip_silence: bool, recognizer_reuse: int
) -> None:
    global _worker
    if nice:
        os.nice(nice)
    _worker = Transcriber(
        model_dir, language, skip_silence=skip_silence, recognizer_reuse=recognizer_reuse
    )
    _ = _worker.model  # load now, so the first call doesn't pay for it


def _transcribe_leg(audio: Path, speaker: str) -> _LegResult:
    assert _worker is not None, "runs only in a pool worker"
    try:
        transcript: Transcript | None = _worker.transcribe(audio, speaker)
        error = None
    except SpeechError as exc:
        transcript, error = None, str(exc)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return _LegResult(transcript, error, os.getpid(), peak_kb)
