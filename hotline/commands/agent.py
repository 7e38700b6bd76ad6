"""`hotline agent add|list|login|logout|pause|ready SEAT`."""

from __future__ import annotations

import argparse

from acd import seats
from acd.desk import SeatDesk
from acd.model import Role
from acd.store import AcdStore
from hotline import bootstrap
from hotline.errors import ConfigError
from hotline.secrets import load_credentials
from hotline.settings import load_settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("agent", help="seats: add, list, log in, pause, ready, log out")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="add or change a seat (renders its SIP account)")
    add.add_argument("seat")
    add.add_argument("--role", choices=[r.value for r in Role], default="operator")
    add.add_argument("--skills", default="operator:1", help="e.g. wage_arrears:3,legal:5")
    add.add_argument("--name", default="")
    add.set_defaults(run=_add)
    actions.add_parser("list", help="configured seats and their live state").set_defaults(run=_list)
    for name in ("login", "logout", "ready"):
        action = actions.add_parser(name)
        action.add_argument("seat")
        action.set_defaults(run=_desk)
    pause = actions.add_parser("pause")
    pause.add_argument("seat")
    pause.add_argument("--reason", default="break")
    pause.set_defaults(run=_desk)


def _add(args: argparse.Namespace) -> int:
    settings = load_settings()
    try:
        skills = seats.parse_skills(args.skills)
        row = seats.save_seat(
            bootstrap.database(settings), args.seat, Role(args.role), skills, args.name
        )
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    load_credentials(settings.var_dir, (row.seat,))
    seats.mirror(AcdStore.from_url(settings.redis_url), [row])
    pbx = bootstrap.pbx(settings)
    if pbx.status().running:
        pbx.reload("res_pjsip.so")  # the new seat's endpoint, auth and AOR
    else:
        pbx.render()
    print(f"seat {row.seat}: {row.role} {row.skills_json}; SIP password in var/secrets.json")
    return 0


def _list(_: argparse.Namespace) -> int:
    settings = load_settings()
    store = AcdStore.from_url(settings.redis_url)
    for row in seats.seats(bootstrap.database(settings)):
        live = store.get_agent(row.seat)
        state = (
            f"{live.state.value}{'' if live.registered else ' (phone not registered)'}"
            if live
            else "-"
        )
        print(f"{row.seat:8s} {row.role:10s} {state:34s} {row.skills_json}")
    return 0


def _desk(args: argparse.Namespace) -> int:
    desk = SeatDesk(AcdStore.from_url(load_settings().redis_url))
    if args.action == "pause":
        desk.pause(args.seat, args.reason)
    else:
        offered = getattr(desk, args.action)(args.seat)
        if offered is not None:
            print(f"seat {args.seat}: offered call {offered.call_id}")
    print(f"seat {args.seat}: {args.action}")
    return 0
