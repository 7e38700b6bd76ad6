"""A seat's softphone dials *14 / *13<n> / *12 / *11 and its state in the real ACD follows."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import pytest

from acd.model import AgentState, Role
from hotline.pbx.runner import Pbx
from hotline.sip.caller import free_port
from hotline.sip.seat import feature_code_scenario
from ivr.app import IvrService
from ivr.fastagi import FastAgiServer
from tests.conftest import eventually
from tests.integration.seat_accounts import add_seats

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

SEAT = "1091"  # this module's own seat


@pytest.fixture(scope="module")
def seat(asterisk: Pbx, agi_server: FastAgiServer, ivr_service: IvrService) -> str:
    add_seats(asterisk, ivr_service, {SEAT: (Role.OPERATOR, "operator:2")})
    return SEAT


def dial(asterisk: Pbx, seat: str, code: str) -> subprocess.CompletedProcess[bytes]:
    work = Path(tempfile.mkdtemp(prefix=f"code{seat}-"))
    password = asterisk.creds.seat_passwords[seat]
    (work / "code.xml").write_text(feature_code_scenario(seat, password, code))
    target = f"{asterisk.settings.sip_bind}:{asterisk.settings.sip_port}"
    cmd = ["sipp", target, "-sf", "code.xml", "-p", str(free_port()), "-i", "127.0.0.1",
           "-m", "1", "-nostdin", "-timeout", "30s", "-trace_err"]  # fmt: skip
    return subprocess.run(cmd, cwd=work, capture_output=True, timeout=40)


def state_and_reason(ivr: IvrService, seat: str) -> tuple[AgentState, str]:
    agent = ivr.acd.get_agent(seat)
    assert agent is not None
    reason = ivr.acd.client.hget(ivr.acd.keys.agent(seat), "reason")
    return agent.state, str(reason or "")


def test_feature_codes_drive_the_seat_state(
    asterisk: Pbx, ivr_service: IvrService, seat: str
) -> None:
    steps = [
        ("*14", (AgentState.AVAILABLE, "")),
        ("*132", (AgentState.PAUSED, "meal")),
        ("*14", (AgentState.AVAILABLE, "")),
        ("*13", (AgentState.PAUSED, "break")),
        ("*12", (AgentState.OFFLINE, "")),
        ("*11", (AgentState.AVAILABLE, "")),
        ("*12", (AgentState.OFFLINE, "")),
    ]
    for code, expected in steps:
        result = dial(asterisk, seat, code)
        # The hotline answered, confirmed and hung up on the softphone (exit 0: scenario done).
        assert result.returncode == 0, (code, result.stdout[-2000:], result.stderr[-2000:])
        assert eventually(lambda e=expected: state_and_reason(ivr_service, seat) == e, 5), (
            code, state_and_reason(ivr_service, seat))  # fmt: skip


def test_an_unknown_reason_digit_changes_nothing(
    asterisk: Pbx, ivr_service: IvrService, seat: str
) -> None:
    assert dial(asterisk, seat, "*14").returncode == 0
    assert eventually(lambda: state_and_reason(ivr_service, seat)[0] is AgentState.AVAILABLE, 5)
    result = dial(asterisk, seat, "*139")  # only five reasons: the seat hears "did not work"
    assert result.returncode == 0, result.stderr[-2000:]
    assert state_and_reason(ivr_service, seat) == (AgentState.AVAILABLE, "")
    dial(asterisk, seat, "*12")
