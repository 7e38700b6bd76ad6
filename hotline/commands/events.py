"""`hotline events`: the call-event stream, the live figures and the dead letters, as JSON."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from redis import RedisError

from acd.store import AcdStore
from hotline.callevents.figures import LiveFigures, snapshot
from hotline.callevents.model import encode
from hotline.callevents.stream import dead_letters, read_all
from hotline.errors import HotlineError
from hotline.settings import load_settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("events", help="call events, live figures and dead letters (JSON)")
    what = parser.add_subparsers(dest="what", required=True, metavar="WHAT")
    show = what.add_parser("list", help="the kept call events, oldest first")
    show.add_argument("--call", help="only this call (Asterisk unique id)")
    show.set_defaults(run=_list)
    what.add_parser("figures", help="the wallboard: queues and seats now").set_defaults(
        run=_figures
    )
    dead = what.add_parser("dead", help="entries a consumer group gave up on")
    dead.add_argument("group", help="the consumer group, e.g. backoffice or transcription")
    dead.set_defaults(run=_dead)


def _store() -> tuple[AcdStore, str]:
    settings = load_settings()
    return AcdStore.from_url(settings.redis_url), settings.timezone


def _print(rows: Any) -> None:
    json.dump(rows, sys.stdout, ensure_ascii=False, indent=1)
    print()


def _redis_down(exc: RedisError) -> HotlineError:
    return HotlineError(f"Redis is not answering ({exc}); check HOTLINE_REDIS_URL")


def _list(args: argparse.Namespace) -> int:
    store, _ = _store()
    try:
        events = read_all(store.client)
    except RedisError as exc:
        raise _redis_down(exc) from None
    _print([encode(e) | {"data": dict(e.data)} for e in events if args.call in (None, e.call_id)])
    return 0


def _figures(_: argparse.Namespace) -> int:
    store, timezone = _store()
    try:
        _print(snapshot(LiveFigures(store.client, timezone), store, time.time()))
    except RedisError as exc:
        raise _redis_down(exc) from None
    return 0


def _dead(args: argparse.Namespace) -> int:
    store, _ = _store()
    try:
        rows = dead_letters(store.client, args.group)
    except RedisError as exc:
        raise _redis_down(exc) from None
    _print([vars(row) for row in rows])
    return 0
