"""`hotline agi`: the FastAGI server in the foreground until SIGTERM or Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import threading

from hotline import bootstrap, logs
from hotline.settings import load_settings
from ivr.app import build_ivr, prepare_seats, routes
from ivr.fastagi import FastAgiServer
from ivr.publishing import ensure_flow


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("agi", help="run the FastAGI server (the IVR) in the foreground")
    parser.set_defaults(run=_run)


def _run(_: argparse.Namespace) -> int:
    settings = load_settings()
    logs.configure(settings.log_level)
    engine = bootstrap.database(settings)
    ensure_flow(engine, settings.recordings_dir, settings.ivr_flow)
    service = build_ivr(settings, engine)
    prepare_seats(engine, service.acd)
    server = FastAgiServer(
        routes(service),
        host=settings.agi_host,
        port=settings.agi_port,
        max_calls=settings.agi_max_calls,
        drain_s=settings.agi_drain_seconds,
    )
    server.start()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    server.shutdown()
    return 0
