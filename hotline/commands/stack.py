"""`hotline up|down|status`: the whole hotline on this machine."""

from __future__ import annotations

import argparse

from hotline import stack
from hotline.settings import load_settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub.add_parser("up", help="start Redis (if none), Asterisk and the IVR").set_defaults(run=_up)
    sub.add_parser("down", help="stop everything `hotline up` started").set_defaults(run=_down)
    sub.add_parser("status", help="what is running").set_defaults(run=_status)


def _up(_: argparse.Namespace) -> int:
    settings = load_settings()
    for note in stack.up(settings):
        print(f"hotline: {note}")
    print(
        f"\nThe hotline answers {settings.hotline_number} "
        f"at sip:{settings.sip_bind}:{settings.sip_port}."
        f"\n  Try it:   hotline call {settings.hotline_number} --keys 1"
        f"\n  Seats:    SIP accounts and passwords in {settings.var_dir / 'secrets.json'}"
        f"\n  Back office API: http://{settings.web_host}:{settings.web_port}/docs"
        "\n            (demo accounts: hotline backoffice seed-demo)"
        f"\n  Logs:     {settings.var_dir / 'log'}"
        "\n  Stop:     hotline down"
    )
    return 0


def _down(_: argparse.Namespace) -> int:
    for note in stack.down(load_settings()):
        print(f"hotline: {note}")
    return 0


def _status(_: argparse.Namespace) -> int:
    components = stack.status(load_settings())
    for c in components:
        print(f"{c.name:9s} {'running' if c.running else 'stopped':8s} {c.detail}")
    return 0 if all(c.running for c in components) else 3
