"""The one command line: `hotline asterisk|agi|call|up|down|status|flow ...`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from hotline.errors import HotlineError

Command = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    from hotline import commands

    parser = argparse.ArgumentParser(prog="hotline", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    run: Command = args.run
    try:
        return run(args)
    except HotlineError as exc:
        print(f"hotline: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # output piped into `head` and friends
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
