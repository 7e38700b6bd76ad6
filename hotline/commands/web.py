"""`hotline web` (the back office) and `hotline backoffice migrate|seed-demo`."""

from __future__ import annotations

import argparse

from backoffice.__main__ import main as backoffice_main


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    web = sub.add_parser("web", help="migrate the database and serve the back office")
    web.set_defaults(run=lambda _: _backoffice("migrate") or _backoffice("serve"))
    office = sub.add_parser("backoffice", help="back-office database tasks")
    actions = office.add_subparsers(dest="action", required=True, metavar="ACTION")
    for name, text in (("migrate", "upgrade the tables"), ("seed-demo", "demo network + users")):
        actions.add_parser(name, help=text).set_defaults(run=lambda a: _backoffice(a.action))


def _backoffice(command: str) -> int:
    return backoffice_main([command])
