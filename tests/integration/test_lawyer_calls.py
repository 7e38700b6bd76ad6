"""Operator -> lawyer on real calls: SIPp caller, SIPp operator pressing keys (RFC 4733),
SIPp lawyers, the real Asterisk (ConfBridge, AMI), FastAGI server and Redis ACD."""

from __future__ import annotations

import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from acd.consult import consult_call_id
from acd.desk import SeatDesk
from acd.model import AgentState, Role
from backoffice import seed
from backoffice.app import create_app
from backoffice.db import upgrade
from backoffice.live.board import binding_key
from backoffice.models import User
from backoffice.services import auth
from hotline.callevents.stream import read_all
from hotline.db import make_engine
from hotline.pbx import ami
from hotline.pbx.ami_listener import AmiListener
from hotline.pbx.runner import Pbx
from hotline.sip.caller import CallResult, free_port
from hotline.sip.dtmf import pcap_bytes
from hotline.sip.seat import (
    SeatPhone,
    answering_scenario,
    pressing_scenario,
    registration_scenario,
    unregistration_scenario,
)
from ivr.app import IvrService
from ivr.handoffs import CallbackRequest
from tests.conftest import eventually
from tests.integration.calls import Dialer
from tests.integration.seat_accounts import add_seats, drop_registration

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

OPERATOR, LAWYER = "1061", "2061"  # this module's own seats


@pytest.fixture(scope="module")
def lawyer_seats(asterisk: Pbx, ivr_service: IvrService) -> Iterator[AmiListener]:
    add_seats(asterisk, ivr_service, {
        OPERATOR: (Role.OPERATOR, "operator:2,wage_arrears:5"),
        LAWYER: (Role.LAWYER, "legal:5"),
    })  # fmt: skip
    s = asterisk.settings
    listener = AmiListener(
        connect=lambda: ami.login(s.ami_host, s.ami_port, s.ami_user, asterisk.creds.ami_secret),
        presence=ivr_service.acd,
        seats=[OPERATOR, LAWYER],
        retry_s=0.3,
    )
    stop = threading.Event()
    thread = threading.Thread(target=listener.run, args=(stop,), daemon=True)
    thread.start()
    assert listener.synced.wait(15)
    yield listener
    stop.set()
    thread.join(5)


# One contact port per seat for the whole module, so a late qualify of an earlier test's
# contact reaches a phone that answers it.
_CONTACT_PORTS: dict[str, int] = {}


class Phone:
    def __init__(self, asterisk: Pbx, seat: str, scenario: str, keys: str = "") -> None:
        self.work = Path(tempfile.mkdtemp(prefix=f"seat{seat}-"))
        port = _CONTACT_PORTS.setdefault(seat, free_port())
        for index, key in enumerate(keys):
            (self.work / f"press_{index}.pcap").write_bytes(pcap_bytes(key, index))
        (self.work / "answer.xml").write_text(scenario.replace("{pcaps}", str(self.work)))
        phone = SeatPhone(seat, asterisk.creds.seat_passwords[seat], port, registered_ms=120_000)
        (self.work / "register.xml").write_text(registration_scenario(phone))
        (self.work / "unregister.xml").write_text(unregistration_scenario(phone))
        target = f"{asterisk.settings.sip_bind}:{asterisk.settings.sip_port}"
        self.target = target
        self.procs = [
            self._sipp(target, "answer.xml", port, "-aa"),
            self._sipp(target, "register.xml", free_port(), "-m", "1"),
        ]

    def _sipp(self, target: str, scenario: str, port: int, *extra: str) -> subprocess.Popen[bytes]:
        cmd = ["sipp", target, "-sf", scenario, "-p", str(port), "-i", "127.0.0.1", "-nostdin",
               "-trace_err", *extra]  # fmt: skip
        return subprocess.Popen(cmd, cwd=self.work, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)  # fmt: skip

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
            proc.wait(10)
        drop_registration(self._sipp, self.target)


@pytest.fixture
def phones(asterisk: Pbx, ivr_service: IvrService) -> Iterator[Callable[..., Phone]]:
    started: list[Phone] = []

    def start(seat: str, scenario: str, keys: str = "") -> Phone:
        started.append(Phone(asterisk, seat, scenario, keys))
        assert eventually(lambda: _registered(ivr_service, seat), 20), seat
        return started[-1]

    yield start
    for phone in started:
        phone.stop()
    desk = SeatDesk(ivr_service.acd)
    for seat in (OPERATOR, LAWYER):
        assert eventually(lambda s=seat: _free(ivr_service, s), 20), ivr_service.acd.get_agent(seat)
        desk.logout(seat)
        # The next test's phones() then waits for its own registration, not this one's.
        assert eventually(lambda s=seat: not _registered(ivr_service, s), 20), seat


def _registered(ivr: IvrService, seat: str) -> bool:
    agent = ivr.acd.get_agent(seat)
    return agent is not None and agent.registered


def _free(ivr: IvrService, seat: str) -> bool:
    agent = ivr.acd.get_agent(seat)
    return agent is not None and agent.state not in (AgentState.RINGING, AgentState.ON_CALL)


def operator_pressing(*presses: tuple[int, str]) -> tuple[str, str]:
    return pressing_scenario(list(presses), "{pcaps}"), "".join(k for _, k in presses)


def conference_members(asterisk: Pbx, room: str) -> list[str]:
    """Channels in a ConfBridge room, through AMI ConfbridgeList."""
    s = asterisk.settings
    seen: list[str] = []
    done = threading.Event()

    def on_event(event: Any, **_: Any) -> None:
        if event.name == "ConfbridgeList" and event.keys.get("Conference") == room:
            seen.append(event.keys.get("Channel", ""))
        elif event.name == "ConfbridgeListComplete":
            done.set()

    with ami.ami_session(s.ami_host, s.ami_port, s.ami_user, asterisk.creds.ami_secret) as c:
        c.add_event_listener(on_event)
        try:
            ami.send(c, "ConfbridgeList", Conference=room)
        except ami.AmiError:
            return []  # no such conference (nobody in it)
        done.wait(5)
    return seen


def channels(asterisk: Pbx) -> list[str]:
    out = asterisk.rx("core show channels concise").stdout
    return [line.split("!")[0] for line in out.splitlines() if "!" in line]


def call_in(dialer: Dialer, hold_ms: int) -> tuple[threading.Thread, list[CallResult]]:
    results: list[CallResult] = []
    thread = threading.Thread(target=lambda: results.append(dialer.call("12", hold_ms=hold_ms)))
    thread.start()
    return thread, results


def caller_uniqueid(ivr: IvrService) -> str:
    found: list[str] = []

    def connected() -> bool:
        agent = ivr.acd.get_agent(OPERATOR)
        if agent is not None and agent.state is AgentState.ON_CALL and agent.current_call:
            found.append(agent.current_call)
            return True
        return False

    assert eventually(connected, 30), ivr.acd.get_agent(OPERATOR)
    return found[0]


def transfers(ivr: IvrService, call_id: str) -> list[dict[str, Any]]:
    return [e.data for e in read_all(ivr.acd.client) if e.call_id == call_id
            and e.type == "transferred"]  # fmt: skip


def test_operator_consults_then_makes_a_three_way_conference(
    asterisk: Pbx, dialer: Dialer, ivr_service: IvrService, lawyer_seats: AmiListener,
    phones: Callable[..., Phone],
) -> None:  # fmt: skip
    scenario, keys = operator_pressing((2500, "*5"), (9000, "*1"))
    phones(OPERATOR, scenario, keys)
    phones(LAWYER, answering_scenario(ring_ms=500))
    desk = SeatDesk(ivr_service.acd)
    desk.ready(OPERATOR)
    desk.ready(LAWYER)
    thread, _ = call_in(dialer, hold_ms=30_000)
    call_id = caller_uniqueid(ivr_service)
    # Consult: the caller alone in the call's room (hold music), operator + lawyer apart.
    lawyer_leg = consult_call_id(call_id)
    assert eventually(lambda: len(conference_members(asterisk, f"{call_id}c")) == 2, 15), (
        asterisk.rx("confbridge list").stdout,
        asterisk.rx("core show channels verbose").stdout,
    )
    assert len(conference_members(asterisk, call_id)) == 1
    lawyer = ivr_service.acd.get_agent(LAWYER)
    assert lawyer is not None and lawyer.state is AgentState.ON_CALL
    assert lawyer.current_call == lawyer_leg
    # The operator presses *1: all three in the call's room.
    assert eventually(lambda: len(conference_members(asterisk, call_id)) == 3, 15), channels(
        asterisk
    )
    members = conference_members(asterisk, call_id)
    assert any(m.startswith(f"PJSIP/{OPERATOR}-") for m in members), members
    assert any(m.startswith(f"PJSIP/{LAWYER}-") for m in members), members
    assert [t["mode"] for t in transfers(ivr_service, call_id)] == ["consult", "conference"]
    assert all(t["agent"] == LAWYER for t in transfers(ivr_service, call_id))
    thread.join(60)
    # Caller gone: the room ends for everyone, the lawyer's consult is finished.
    assert eventually(lambda: _free(ivr_service, LAWYER), 15)
    assert eventually(lambda: conference_members(asterisk, call_id) == [], 10)


def test_operator_hands_the_caller_over_to_the_lawyer(
    asterisk: Pbx, dialer: Dialer, ivr_service: IvrService, lawyer_seats: AmiListener,
    phones: Callable[..., Phone],
) -> None:  # fmt: skip
    scenario, keys = operator_pressing((2500, "*5"), (9000, "*2"))
    phones(OPERATOR, scenario, keys)
    phones(LAWYER, answering_scenario(ring_ms=500))
    desk = SeatDesk(ivr_service.acd)
    desk.ready(OPERATOR)
    desk.ready(LAWYER)
    thread, _ = call_in(dialer, hold_ms=25_000)
    call_id = caller_uniqueid(ivr_service)
    assert eventually(lambda: len(conference_members(asterisk, f"{call_id}c")) == 2, 15)

    # *2: the operator's leg is hung up; caller and lawyer stay, together.
    def handed_over() -> bool:
        members = conference_members(asterisk, call_id)
        return len(members) == 2 and any(m.startswith(f"PJSIP/{LAWYER}-") for m in members)

    assert eventually(handed_over, 15), channels(asterisk)
    assert not any(c.startswith(f"PJSIP/{OPERATOR}-") for c in channels(asterisk))
    assert call_id in asterisk.rx("core show channels concise").stdout or any(
        c.startswith("PJSIP/trunk") for c in channels(asterisk)
    )
    assert [t["mode"] for t in transfers(ivr_service, call_id)] == ["consult", "transfer"]
    # The operator is free again after wrap-up while the lawyer still talks.
    assert eventually(lambda: ivr_service.acd.get_agent(OPERATOR).state  # type: ignore[union-attr]
                      is AgentState.AVAILABLE, 15)  # fmt: skip
    lawyer = ivr_service.acd.get_agent(LAWYER)
    assert lawyer is not None and lawyer.state is AgentState.ON_CALL
    thread.join(60)


def test_no_lawyer_free_files_a_lawyer_callback_linked_to_the_call(
    asterisk: Pbx, dialer: Dialer, ivr_service: IvrService, lawyer_seats: AmiListener,
    phones: Callable[..., Phone],
) -> None:  # fmt: skip
    scenario, keys = operator_pressing((2500, "*5"))
    phones(OPERATOR, scenario, keys)
    SeatDesk(ivr_service.acd).ready(OPERATOR)  # the lawyer stays logged out
    thread, results = call_in(dialer, hold_ms=9_000)
    call_id = caller_uniqueid(ivr_service)

    def callbacks() -> list[CallbackRequest]:
        with Session(ivr_service.engine) as session:
            query = select(CallbackRequest).where(CallbackRequest.uniqueid == call_id)
            return list(session.exec(query).all())

    assert eventually(lambda: len(callbacks()) == 1, 15)
    request = callbacks()[0]
    assert request.queue == "lawyer" and request.status == "open"
    assert request.caller == "13800138000"
    # The caller and the operator still talk: nobody moved.
    operator = ivr_service.acd.get_agent(OPERATOR)
    assert operator is not None and operator.state is AgentState.ON_CALL
    assert conference_members(asterisk, call_id) == []
    assert ivr_service.acd.get_call(consult_call_id(call_id)) is None
    thread.join(60)
    assert results and results[0].record is not None


def test_a_lawyer_who_never_answers_gets_a_callback_and_the_operator_gets_the_caller_back(
    asterisk: Pbx, dialer: Dialer, ivr_service: IvrService, lawyer_seats: AmiListener,
    phones: Callable[..., Phone],
) -> None:  # fmt: skip
    scenario, keys = operator_pressing((2500, "*5"))
    phones(OPERATOR, scenario, keys)
    phones(LAWYER, answering_scenario(answer=False))  # rings until the ring timeout
    desk = SeatDesk(ivr_service.acd)
    desk.ready(OPERATOR)
    desk.ready(LAWYER)
    thread, _ = call_in(dialer, hold_ms=30_000)
    call_id = caller_uniqueid(ivr_service)
    assert eventually(lambda: len(conference_members(asterisk, f"{call_id}c")) == 1, 15)

    def callbacks() -> list[CallbackRequest]:
        with Session(ivr_service.engine) as session:
            query = select(CallbackRequest).where(CallbackRequest.uniqueid == call_id)
            return list(session.exec(query).all())

    # After the ring timeout (8 s in the tests): a lawyer callback, and the operator back in
    # the call's room with the caller.
    assert eventually(lambda: len(callbacks()) == 1, 25)
    assert callbacks()[0].queue == "lawyer"

    def together() -> bool:
        members = conference_members(asterisk, call_id)
        return len(members) == 2 and any(m.startswith(f"PJSIP/{OPERATOR}-") for m in members)

    assert eventually(together, 15), channels(asterisk)
    assert not any(c.startswith(f"PJSIP/{LAWYER}-") for c in channels(asterisk))
    assert ivr_service.acd.get_call(consult_call_id(call_id)) is None
    assert _free(ivr_service, LAWYER)
    assert [t["mode"] for t in transfers(ivr_service, call_id)] == ["consult"]
    thread.join(60)


@dataclass
class BackofficeApi:
    client: TestClient
    headers: dict[str, dict[str, str]]  # username -> bearer token header
    ids: dict[str, int]  # username -> user id


@pytest.fixture(scope="module")
def backoffice_api(
    asterisk: Pbx, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BackofficeApi]:
    """The back office on the test hotline's Redis and AMI, with the demo users."""
    base = tmp_path_factory.mktemp("backoffice-lawyer")
    settings = asterisk.settings.model_copy(
        update={"database_url": f"sqlite:///{base / 'backoffice.db'}"}
    )
    engine = make_engine(settings)
    upgrade(engine)
    with Session(engine) as session:
        seed.demo(session)
        users = list(session.exec(select(User)).all())
        headers = {u.username: {"Authorization": f"Bearer {auth.issue_token(session, u)[0]}"}
                   for u in users}  # fmt: skip
        ids = {u.username: u.id or 0 for u in users}
    with TestClient(create_app(settings, engine=engine, secret_key=b"x" * 32)) as client:
        yield BackofficeApi(client, headers, ids)
    engine.dispose()


def test_the_api_brings_in_a_lawyer_then_makes_it_a_conference(
    asterisk: Pbx, dialer: Dialer, ivr_service: IvrService, lawyer_seats: AmiListener,
    phones: Callable[..., Phone],
    backoffice_api: BackofficeApi,
) -> None:  # fmt: skip
    client, headers = backoffice_api.client, backoffice_api.headers
    phones(OPERATOR, answering_scenario(ring_ms=300))
    phones(LAWYER, answering_scenario(ring_ms=500))
    desk = SeatDesk(ivr_service.acd)
    desk.ready(OPERATOR)
    desk.ready(LAWYER)
    operator_user = backoffice_api.ids["operator"]
    ivr_service.acd.client.set(binding_key(operator_user), OPERATOR)  # their desk's phone
    thread, _ = call_in(dialer, hold_ms=20_000)
    call_id = caller_uniqueid(ivr_service)
    url = f"/api/v1/calls/{call_id}/lawyer"
    # The lawyer may not; the operator on the call may.
    assert client.post(url, headers=headers["lawyer"], json={"mode": "consult"}).status_code == 403
    reply = client.post(url, headers=headers["operator"], json={"mode": "consult"})
    assert reply.status_code == 200, reply.text
    assert reply.json() | {"call_id": call_id} == {
        "call_id": call_id, "mode": "consult", "operator": OPERATOR, "lawyer": LAWYER,
        "stage": "consult", "callback_id": None}  # fmt: skip
    assert eventually(lambda: len(conference_members(asterisk, f"{call_id}c")) == 2, 15)
    again = client.post(url, headers=headers["supervisor"], json={"mode": "consult"})
    assert again.status_code == 409 and "already consulting" in again.json()["detail"]
    reply = client.post(url, headers=headers["supervisor"], json={"mode": "conference"})
    assert reply.status_code == 200 and reply.json()["stage"] == "conference", reply.text
    assert eventually(lambda: len(conference_members(asterisk, call_id)) == 3, 15)
    assert [t["mode"] for t in transfers(ivr_service, call_id)] == ["consult", "conference"]
    thread.join(60)
    ivr_service.acd.client.delete(binding_key(operator_user))
