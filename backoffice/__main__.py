"""`python -m backoffice migrate | seed-demo | serve`: until the `hotline` CLI grows the same."""

from __future__ import annotations

import argparse
import sys

from sqlalchemy.engine import Engine
from sqlmodel import Session

from hotline.errors import HotlineError
from hotline.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m backoffice")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="upgrade the back office's tables to the latest schema")
    commands.add_parser(
        "seed-demo", help="add the demo network and one user per role, and print their passwords"
    )
    commands.add_parser("serve", help="run the API on HOTLINE_WEB_HOST:HOTLINE_WEB_PORT")
    args = parser.parse_args(argv)
    try:
        return _run(args.command)
    except HotlineError as exc:
        print(f"backoffice: {exc}", file=sys.stderr)
        return 1


def _run(command: str) -> int:
    from backoffice.db import upgrade
    from hotline.db import make_engine, merge_text_indexes, refresh_statistics, web_engine
    from hotline.settings import load_settings  # here: a bad setting is reported, not raised

    settings = load_settings()
    if command == "serve":
        _serve(settings, web_engine(settings))
        return 0
    engine = make_engine(settings)
    upgrade(engine)
    if command == "seed-demo":
        _seed_demo(engine)
    # SQLite; the web app does both daily from then on.
    merge_text_indexes(engine)
    refresh_statistics(engine)
    return 0


def _seed_demo(engine: Engine) -> None:
    from backoffice import seed

    with Session(engine) as session:
        accounts = seed.demo(session)
    print("Demo accounts (never on a production database):")
    for account in accounts:
        print(f"  {account.username:<11} {account.password:<24} {account.role:<10} {account.unit}")


def _serve(settings: Settings, engine: Engine) -> None:
    import uvicorn

    from backoffice.app import create_app

    # httptools and uvloop (dependencies): C parsing and event loop, less CPU per request than
    # h11 and asyncio's loop (benchmarks/backoffice.py).
    uvicorn.run(
        create_app(settings, engine=engine, freeze_gc=True),
        host=settings.web_host,
        port=settings.web_port,
        http="httptools",
        loop="uvloop",
    )


if __name__ == "__main__":
    sys.exit(main())
