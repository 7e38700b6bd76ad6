"""`hotline worker`: transcription processes in the foreground; `--dead-letters` lists failures."""

from __future__ import annotations

import argparse
import json
import signal
import threading

import redis

from hotline import logs
from hotline.callevents.stream import dead_letters
from hotline.settings import load_settings
from hotline.speech.worker import GROUP, WorkerPool, check_models


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("worker", help="transcribe finished calls (Vosk) into the back office")
    parser.add_argument("--processes", type=int, help="default: HOTLINE_SPEECH_WORKERS or cores")
    parser.add_argument(
        "--dead-letters", action="store_true", help="print the calls that could not be done"
    )
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    settings = load_settings()
    if args.dead_letters:
        return _print_dead_letters(settings.redis_url)
    logs.configure(settings.log_level)
    check_models(settings)  # one line naming HOTLINE_VOSK_MODELS, before any process starts
    from backoffice.db import upgrade
    from hotline.db import make_engine

    upgrade(make_engine(settings))  # the call_transcript table
    pool = WorkerPool(settings, args.processes)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    pool.start()
    try:
        pool.supervise(stop)
    finally:
        pool.stop()
    return 0


def _print_dead_letters(url: str) -> int:
    client = redis.Redis.from_url(url, decode_responses=True)
    for dead in dead_letters(client, GROUP):
        call_id = dead.fields.get("call_id", "")
        line = {"entry": dead.entry_id, "call_id": call_id, "attempts": dead.attempts,
                "error": dead.error}  # fmt: skip
        print(json.dumps(line, ensure_ascii=False))
    return 0
