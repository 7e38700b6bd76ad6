"""Seats of a test's own (numbers no other test uses), with SIP accounts in the test Asterisk."""

from __future__ import annotations

from acd import seats
from acd.model import Role
from hotline.pbx.runner import Pbx
from hotline.secrets import load_credentials
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
