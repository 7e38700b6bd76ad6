"""Callers reach SIPp seats through the skill-based ACD, the real Asterisk and Redis."""

from __future__ import annotations

import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from acd.desk import SeatDesk
from acd.model import AgentState
from acd.seats import DEMO_SEATS
from hotline.callevents.model import CallEvent
from hotline.callevents.stream import read_all
from hotline.pbx import ami
from hotline.pbx.ami_listener import AmiListener
from hotline.pbx.runner import Pbx
from hotline.sip.caller import free_port
from hotline.sip.seat import (
    SeatPhone,
    answering_scenario,
    registration_scenario,
    unregistration_scenario,
)
from ivr.app import IvrService
from tests.conftest import eventually
from tests.integration.calls import Dialer, nodes
from tests.integration.seat_accounts import drop_registration

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


@pytest.fixture(scope="module")
def presence(asterisk: Pbx, ivr_service: IvrService) -> Iterator[AmiListener]:
    """The AMI listener feeding seat registrations to the test hotline's ACD."""
    s = asterisk.settings
    listener = AmiListener(
        connect=lambda: ami.login(s.ami_host, s.ami_port, s.ami_user, asterisk.creds.ami_secret),
        presence=ivr_service.acd,
        seats=list(asterisk.creds.seat_passwords),
        retry_s=0.3,
    )
    stop = threading.Event()
    thread = threading.Thread(target=listener.run, args=(stop,), daemon=True)
    thread.start()
    assert listener.synced.wait(15)
    yield listener
    stop.set()
    thread.join(5)


class Softphone:
    """A seat's SIPp softphone: one process registers, one answers calls."""

    def __init__(self, asterisk: Pbx, seat: str, answer: bool = True, ring_ms: int = 300) -> None:
        self.work = Path(tempfile.mkdtemp(prefix=f"seat{seat}-"))
        self.contact_port = free_port()
        target = f"{asterisk.settings.sip_bind}:{asterisk.settings.sip_port}"
        (self.work / "answer.xml").write_text(answering_scenario(ring_ms=ring_ms, answer=answer))
        phone = SeatPhone(seat, asterisk.creds.seat_passwords[seat], self.contact_port,
                          registered_ms=120_000)  # fmt: skip
        (self.work / "register.xml").write_text(registration_scenario(phone))
        (self.work / "unregister.xml").write_text(unregistration_scenario(phone))
        self.target = target
        # -aa answers Asterisk's qualify OPTIONS; no call limit, so those don't end the phone.
        self.answering = self._sipp(target, "answer.xml", self.contact_port, "-aa")
        self.registering = self._sipp(target, "register.xml", free_port(), "-m", "1")

    def _sipp(self, target: str, scenario: str, port: int, *extra: str) -> subprocess.Popen[bytes]:
        cmd = ["sipp", target, "-sf", scenario, "-p", str(port), "-i", "127.0.0.1", "-nostdin",
               *extra]  # fmt: skip
        return subprocess.Popen(cmd, cwd=self.work, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)  # fmt: skip

    def stop(self) -> None:
        for proc in (self.answering, self.registering):
            proc.terminate()
            proc.wait(10)
        drop_registration(self._sipp, self.target)


@pytest.fixture
def softphones(asterisk: Pbx) -> Iterator[Callable[..., Softphone]]:
    started: list[Softphone] = []

    def start(seat: str, answer: bool = True, ring_ms: int = 300) -> Softphone:
        started.append(Softphone(asterisk, seat, answer, ring_ms))
        return started[-1]

    yield start
    for phone in started:
        phone.stop()


@pytest.fixture
def desk(ivr_service: IvrService) -> Iterator[SeatDesk]:
    seats = SeatDesk(ivr_service.acd)
    yield seats
    for seat, _, _ in DEMO_SEATS:
        agent = ivr_service.acd.get_agent(seat)
        if agent is not None and agent.state not in (AgentState.RINGING, AgentState.ON_CALL):
            seats.logout(seat)


def acd_events(ivr_service: IvrService, call_id: str) -> list[dict[str, Any]]:
    return [fields for _, fields in ivr_service.acd.events() if fields.get("call") == call_id]


def call_events(ivr_service: IvrService, call_id: str) -> list[CallEvent]:
    return [e for e in read_all(ivr_service.acd.client) if e.call_id == call_id]


def test_caller_reaches_the_seat_with_the_skill_and_is_recorded_on_two_legs(
    dialer: Dialer, ivr_service: IvrService, presence: AmiListener,
    softphones: Callable[..., Softphone], desk: SeatDesk,
) -> None:  # fmt: skip
    store = ivr_service.acd
    softphones("1003")  # wage_arrears:1
    assert eventually(
        lambda: bool(store.get_agent("1003") and store.get_agent("1003").registered),  # type: ignore[union-attr]
        timeout=15,
    )
    desk.ready("1003")
    result = dialer.call("12", hold_ms=5000)  # Mandarin, wage arrears
    assert result.record is not None, result.as_dict()
    uniqueid = result.record["uniqueid"]
    assert nodes(result)[-1] == "wage_arrears_queue"
    kinds = [e.get("type") for e in acd_events(ivr_service, uniqueid)]
    assert "offer" in kinds and "finish" in kinds, acd_events(ivr_service, uniqueid)
    calls = dialer.settings.recordings_dir / "calls"
    for suffix in ("", "-caller", "-agent"):
        assert eventually(lambda s=suffix: (calls / f"{uniqueid}{s}.wav").exists(), 5), suffix
    # After the call: wrap-up, then available again by itself.
    assert eventually(lambda: store.get_agent("1003").state is AgentState.AVAILABLE, 10)  # type: ignore[union-attr]
    # The call's life on the call-event stream, the ended event carrying every fact.
    assert eventually(lambda: any(e.type == "ended" for e in call_events(ivr_service, uniqueid)))
    lifecycle = call_events(ivr_service, uniqueid)
    assert [e.type for e in lifecycle] == ["started", "queued", "offered", "answered", "ended"]
    ended = lifecycle[-1].data
    assert ended["answered"] is True and ended["agent"] == "1003"
    assert ended["queue"] == "wage_arrears" and ended["abandoned"] is False
    assert ended["recordings"]["caller"] == str(calls / f"{uniqueid}-caller.wav")
    assert [step["node"] for step in ended["ivr_path"]] == nodes(result)
    assert ended["talk_s"] >= 3 and 0 <= ended["wait_s"] < 5


def test_caller_abandoning_in_queue_is_removed(
    dialer: Dialer, ivr_service: IvrService, presence: AmiListener
) -> None:
    result = dialer.call("13", hold_ms=3000)  # work injury, nobody ready
    assert result.record is not None
    uniqueid = result.record["uniqueid"]
    assert eventually(lambda: ivr_service.acd.get_call(uniqueid) is None, 5)
    kinds = [e.get("type") for e in acd_events(ivr_service, uniqueid)]
    assert "abandon" in kinds, acd_events(ivr_service, uniqueid)
    assert eventually(lambda: any(e.type == "ended" for e in call_events(ivr_service, uniqueid)))
    lifecycle = call_events(ivr_service, uniqueid)
    assert [e.type for e in lifecycle] == ["started", "queued", "abandoned", "ended"]
    assert lifecycle[-1].data["abandoned"] is True and lifecycle[-1].data["answered"] is False


def test_a_seat_that_never_answers_is_passed_over_then_paused_after_two_misses(
    asterisk: Pbx, dialer: Dialer, ivr_service: IvrService, presence: AmiListener,
    softphones: Callable[..., Softphone], desk: SeatDesk,
) -> None:  # fmt: skip
    store = ivr_service.acd
    # 1004 is away: its phone rings far longer than the ACD lets a seat ring.
    # Seats 1001/1002 are left alone: the AMI listener tests expect them unregistered.
    for seat, ring_ms in (("1004", 120_000), ("1003", 300)):
        softphones(seat, ring_ms=ring_ms)
        assert eventually(lambda s=seat: bool((a := store.get_agent(s)) and a.registered), 30), (
            seat,
            store.get_agent(seat),
            asterisk.rx("pjsip show contacts"),
        )
    desk.ready("1004")  # the longest idle: offered first
    time.sleep(0.2)
    desk.ready("1003")
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(dialer.call, "10", hold_ms=20_000, caller="13800000001")
        time.sleep(14)
        second = pool.submit(dialer.call, "10", hold_ms=20_000, caller="13800000002")
        results = [first.result(), second.result()]
    ids = [r.record["uniqueid"] for r in results if r.record is not None]
    assert len(ids) == 2, [r.as_dict() for r in results]
    for call_id in ids:
        offers = [(e["type"], e.get("agent")) for e in acd_events(ivr_service, call_id)
                  if e.get("type") in ("offer", "release", "finish")]  # fmt: skip
        # Rang out at 1004, went back to its place, was answered by 1003.
        assert offers == [("offer", "1004"), ("release", "1004"), ("offer", "1003"),
                          ("finish", "1003")], offers  # fmt: skip
    away = store.get_agent("1004")
    assert away is not None and away.state is AgentState.PAUSED
    reason = store.client.hget(store.keys.agent("1004"), "reason")
    assert reason == "no_answer"
