"""`hotline ami`: follow Asterisk over AMI (seat registrations -> ACD) until SIGTERM or Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import threading

from acd.reconcile import reconcile_calls
from acd.store import AcdStore
from hotline import bootstrap, logs
from hotline.pbx import ami
from hotline.pbx.ami_listener import AmiListener
from hotline.settings import load_settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub.add_parser("ami", help="run the AMI listener in the foreground").set_defaults(run=_run)


def _run(_: argparse.Namespace) -> int:
    settings = load_settings()
    logs.configure(settings.log_level)
    creds = bootstrap.credentials(settings)
    store = AcdStore.from_url(settings.redis_url)
    listener = AmiListener(
        connect=lambda: ami.login(
            settings.ami_host, settings.ami_port, settings.ami_user, creds.ami_secret
        ),
        presence=store,
        seats=creds.seat_passwords,
        on_channels=lambda live, at: reconcile_calls(store, live, at),
    )
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    listener.run(stop)
    return 0
