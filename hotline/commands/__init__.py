"""Sub-commands of `hotline`; each module registers its own."""

from __future__ import annotations

import argparse

from hotline.commands import (
    agent,
    agi,
    ami,
    asterisk,
    call,
    events,
    flow,
    speech,
    stack,
    web,
    worker,
)

GROUPS = (asterisk, agi, ami, agent, call, events, flow, speech, stack, web, worker)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    for group in GROUPS:
        group.register(sub)
