"""Sub-commands of `hotline`; each module registers its own."""

from __future__ import annotations

import argparse

from hotline.commands import agi, ami, asterisk, call, flow, stack, web

GROUPS = (asterisk, agi, ami, call, flow, stack, web)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    for group in GROUPS:
        group.register(sub)
