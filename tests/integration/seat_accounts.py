"""Seats of a test's own (numbers no other test uses), with SIP accounts in the test Asterisk."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

from acd import seats
from acd.model import Role
from hotline.pbx.runner import Pbx
from hotline.secrets import load_credentials
from hotline.sip.caller import free_port
from ivr.app import IvrService


def add_seats(asterisk: Pbx, ivr: IvrService, specs: dict[str, tuple[Role, str]]) -> None:
    """Configure the seats, give each a SIP account and have the running Asterisk load them."""
    rows = [
        seats.save_seat(ivr.engine, seat, role, seats.parse_skills(skills))
        for seat, (role, skills) in specs.items()
    ]
    asterisk.creds = load_credentials(asterisk.settings.var_dir, tuple(specs))
    asterisk.reload("res_pjsip.so")
    seats.mirror(ivr.acd, rows)


Sipp = Callable[..., "subprocess.Popen[bytes]"]


def drop_registration(sipp: Sipp, target: str) -> None:
    """Run the phone's `unregister.xml` once and wait for it.

    A contact left behind looks registered to the next test until Asterisk's qualify finds
    nobody there, possibly in the middle of that test, and the ACD offers calls to nobody.
    """
    unregister = sipp(target, "unregister.xml", free_port(), "-m", "1")
    try:
        unregister.wait(15)
    except subprocess.TimeoutExpired:
        unregister.kill()
        unregister.wait()
