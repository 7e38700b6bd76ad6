"""`hotline web` (the back office) and `hotline backoffice migrate|seed-demo|intake`."""

from __future__ import annotations

import argparse
import signal
import threading

from backoffice.__main__ import main as backoffice_main


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    web = sub.add_parser("web", help="migrate the database and serve the back office")
    web.set_defaults(run=lambda _: _backoffice("migrate") or _backoffice("serve"))
    office = sub.add_parser("backoffice", help="back-office database tasks")
    actions = office.add_subparsers(dest="action", required=True, metavar="ACTION")
    for name, text in (("migrate", "upgrade the tables"), ("seed-demo", "demo network + users")):
        actions.add_parser(name, help=text).set_defaults(run=lambda a: _backoffice(a.action))
    actions.add_parser(
        "intake", help="turn finished calls (the call-event stream) into work orders"
    ).set_defaults(run=_intake)


def _backoffice(command: str) -> int:
    return backoffice_main([command])


def _intake(_: argparse.Namespace) -> int:
    from acd.store import connect
    from backoffice.db import upgrade
    from backoffice.intake import run_intake
    from backoffice.services.work_orders import WorkOrderConfig
    from hotline import logs
    from hotline.callevents.stream import RetryPolicy
    from hotline.db import make_engine
    from hotline.settings import load_settings

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):  # first: a stop during the migration is clean
        signal.signal(sig, lambda *_: stop.set())
    settings = load_settings()
    logs.configure(settings.log_level)
    engine = make_engine(settings)
    upgrade(engine)
    retry = RetryPolicy(stale_after_s=settings.intake_stale_seconds)
    config = WorkOrderConfig(tz=settings.timezone)
    run_intake(connect(settings.redis_url), engine, config, stop, retry)
    return 0
