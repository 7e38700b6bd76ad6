"""`hotline asterisk install|start|stop|status|render|reload`."""

from __future__ import annotations

import argparse

from hotline import bootstrap
from hotline.settings import load_settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("asterisk", help="install, run and configure Asterisk")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    for name, run, text in (
        ("install", _install, "use a system Asterisk 20+ or build the Debian sid sandbox"),
        ("start", _start, "render the config and start Asterisk"),
        ("stop", _stop, "stop Asterisk (and unmount the sandbox)"),
        ("status", _status, "is Asterisk running, which version"),
        ("render", _render, "render the config files from templates"),
        ("reload", _reload, "render the config and reload it through AMI"),
    ):
        actions.add_parser(name, help=text).set_defaults(run=run)


def _install(_: argparse.Namespace) -> int:
    pbx = bootstrap.pbx(load_settings(), build=True)
    print(f"asterisk: {pbx.inst.mode} at {pbx.inst.root}")
    return 0


def _start(_: argparse.Namespace) -> int:
    status = bootstrap.pbx(load_settings(), build=True).start()
    print(f"asterisk: running (pid {status.pid}) {status.version}")
    return 0


def _stop(_: argparse.Namespace) -> int:
    bootstrap.pbx(load_settings()).stop()
    print("asterisk: stopped")
    return 0


def _status(_: argparse.Namespace) -> int:
    status = bootstrap.pbx(load_settings()).status()
    print(
        f"asterisk: running (pid {status.pid}) {status.version}"
        if status.running
        else "asterisk: stopped"
    )
    return 0 if status.running else 3


def _render(_: argparse.Namespace) -> int:
    for path in bootstrap.pbx(load_settings()).render():
        print(path)
    return 0


def _reload(_: argparse.Namespace) -> int:
    bootstrap.pbx(load_settings()).reload()
    print("asterisk: config reloaded")
    return 0
