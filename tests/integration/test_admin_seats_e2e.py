"""An admin adds a seat in Debian's Chromium against the test hotline: the new PJSIP endpoint is
in the running Asterisk at once and a SIPp softphone registers with the password the page
showed; removing the seat takes the endpoint away again."""

from __future__ import annotations

import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlmodel import Session

from acd import seats
from backoffice import seed
from backoffice.app import create_app
from backoffice.db import upgrade
from hotline.pbx.runner import Pbx
from hotline.settings import Settings
from hotline.sip.caller import free_port
from hotline.sip.seat import SeatPhone, registration_scenario
from ivr.app import IvrService
from tests.conftest import eventually
from tests.integration.test_live_screens_e2e import SHOTS, browser, signed_in  # noqa: F401

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

SEAT = "3107"


@pytest.fixture(scope="module")
def admin_web(stack_settings: Settings, ivr_service: IvrService, asterisk: Pbx) -> Iterator[str]:
    engine = ivr_service.engine
    upgrade(engine)
    with Session(engine) as session:
        seed.demo(session)
    seats.delete_seat(engine, SEAT)  # left by an interrupted earlier run
    app = create_app(stack_settings, engine=engine)
    port = free_port(__import__("socket").SOCK_STREAM)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           timeout_graceful_shutdown=2))  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    assert eventually(lambda: server.started, 15)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def endpoint_known(asterisk: Pbx, seat: str) -> bool:
    out = asterisk.rx(f"pjsip show endpoint {seat}").stdout
    return f"Endpoint:  {seat}" in out and "Unable to find object" not in out


def register(asterisk: Pbx, seat: str, password: str) -> int:
    """Register a SIPp softphone with these credentials and unregister; SIPp's exit code."""
    work = Path(tempfile.mkdtemp(prefix=f"admin-seat{seat}-"))
    phone = SeatPhone(seat, password, free_port(), registered_ms=1500)
    (work / "register.xml").write_text(registration_scenario(phone))
    target = f"{asterisk.settings.sip_bind}:{asterisk.settings.sip_port}"
    cmd = ["sipp", target, "-sf", "register.xml", "-p", str(free_port()), "-i", "127.0.0.1",
           "-nostdin", "-m", "1", "-timeout", "20s"]  # fmt: skip
    return subprocess.run(cmd, cwd=work, capture_output=True, timeout=40).returncode


def test_an_admin_adds_a_seat_whose_phone_registers_at_once(
    admin_web: str, browser: Any, asterisk: Pbx, ivr_service: IvrService  # noqa: F811
) -> None:
    assert not endpoint_known(asterisk, SEAT)
    page = signed_in(browser, admin_web, "admin")
    page.goto(f"{admin_web}/admin/seats")
    page.fill("#seat-id", SEAT)
    page.fill("#seat-name", "李明")
    page.select_option("#seat-role", "operator")
    page.select_option("#skill-operator", "3")
    page.select_option("#skill-wage_arrears", "2")
    page.select_option("#skill-lang_en", "1")
    page.click("#save-seat")
    page.wait_for_selector("#new-credentials", timeout=20_000)
    assert page.get_attribute("#cred-asterisk", "data-status") == "reloaded"
    password = page.inner_text("#cred-password").strip()
    assert len(password) == 32
    page.screenshot(path=str(SHOTS / "admin-seats.png"), full_page=True)

    assert endpoint_known(asterisk, SEAT), asterisk.rx(f"pjsip show endpoint {SEAT}").stdout
    agent = ivr_service.acd.get_agent(SEAT)
    assert agent is not None and agent.skills == {"operator": 3, "wage_arrears": 2, "lang_en": 1}
    assert register(asterisk, SEAT, password) == 0
    assert register(asterisk, SEAT, "0" * 32) != 0  # the shown password, no other, is the key

    page.goto(f"{admin_web}/admin/seats")
    page.click(f"#seats tr[data-seat='{SEAT}'] .remove-seat")
    page.wait_for_selector(".flash-ok")
    assert page.locator(f"#seats tr[data-seat='{SEAT}']").count() == 0
    assert eventually(lambda: not endpoint_known(asterisk, SEAT), 10)
    assert ivr_service.acd.get_agent(SEAT) is None
    page.close()


def test_an_agent_gets_403_on_the_admin_pages_in_the_browser(
    admin_web: str, browser: Any  # noqa: F811
) -> None:
    page = signed_in(browser, admin_web, "operator")
    for path in ("/admin/seats", "/admin/skills", "/admin/speech-rules", "/admin/holidays",
                 "/admin/queues"):
        assert page.goto(f"{admin_web}{path}").status == 403, path
    page.close()
