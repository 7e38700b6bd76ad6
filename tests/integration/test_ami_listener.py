"""The AMI listener against the real Asterisk: SIPp softphones register, Asterisk restarts."""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from acd.keys import AcdKeys
from acd.model import Agent, AgentState, Role, WaitingCall
from acd.reconcile import reconcile_calls
from acd.store import AcdStore, connect
from hotline.pbx import ami
from hotline.pbx.ami_listener import AmiListener
from hotline.pbx.runner import Pbx
from hotline.sip.caller import free_port
from hotline.sip.seat import SeatPhone, registration_scenario
from tests.conftest import eventually
from tests.integration.test_acd_calls import Softphone

pytestmark = pytest.mark.integration


def seats_store(redis_url: str) -> AcdStore:
    acd = AcdStore(connect(redis_url), keys=AcdKeys(prefix=f"test:{uuid.uuid4().hex[:8]}:"))
    for seat in ("1001", "1002"):
        acd.upsert_agent(Agent(id=seat, role=Role.OPERATOR, skills={"operator": 1}))
    return acd


@pytest.fixture
def store(redis_url: str) -> Iterator[AcdStore]:
    acd = seats_store(redis_url)
    yield acd
    acd.purge()


@contextlib.contextmanager
def following(asterisk: Pbx, store: AcdStore) -> Iterator[AmiListener]:
    s = asterisk.settings
    follower = AmiListener(
        connect=lambda: ami.login(s.ami_host, s.ami_port, s.ami_user, asterisk.creds.ami_secret),
        presence=store,
        seats=["1001", "1002"],
        retry_s=0.3,
        on_channels=lambda live, at: reconcile_calls(store, live, at),
    )
    stop = threading.Event()
    thread = threading.Thread(target=follower.run, args=(stop,), daemon=True)
    thread.start()
    try:
        assert follower.synced.wait(10), "the listener never synced"
        yield follower
    finally:
        stop.set()
        thread.join(5)


@pytest.fixture
def listener(asterisk: Pbx, store: AcdStore) -> Iterator[AmiListener]:
    with following(asterisk, store) as follower:
        yield follower


def register(asterisk: Pbx, seat: str, stay_ms: int) -> subprocess.Popen[bytes]:
    work = Path(tempfile.mkdtemp(prefix="seat-"))
    phone = SeatPhone(seat, asterisk.creds.seat_passwords[seat], free_port(), registered_ms=stay_ms)
    (work / "reg.xml").write_text(registration_scenario(phone))
    target = f"{asterisk.settings.sip_bind}:{asterisk.settings.sip_port}"
    return subprocess.Popen(
        ["sipp", target, "-sf", "reg.xml", "-m", "1", "-p", str(free_port()), "-i", "127.0.0.1",
         "-nostdin"],
        cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def registered(store: AcdStore, seat: str) -> bool:
    agent = store.get_agent(seat)
    return agent is not None and agent.registered


def test_registration_and_unregistration_reach_the_acd(
    asterisk: Pbx, store: AcdStore, listener: AmiListener
) -> None:
    assert not registered(store, "1001")
    phone = register(asterisk, "1001", stay_ms=3000)
    assert eventually(lambda: registered(store, "1001"))
    assert not registered(store, "1002")
    assert phone.wait(20) == 0
    assert eventually(lambda: not registered(store, "1001"))


def test_listener_reconnects_and_resyncs_after_asterisk_restarts(
    asterisk: Pbx, store: AcdStore, listener: AmiListener
) -> None:
    store.set_registered("1002", True)  # stale: no softphone is registered
    asterisk.stop()
    assert eventually(lambda: not listener.synced.is_set())
    asterisk.start()
    assert eventually(lambda: listener.synced.is_set(), timeout=30)
    # The re-sync corrected the stale flag from Asterisk's own contact list.
    assert not registered(store, "1002")
    phone = register(asterisk, "1002", stay_ms=2000)
    assert eventually(lambda: registered(store, "1002"))
    phone.wait(20)


def test_calls_whose_channels_died_with_asterisk_leave_the_acd(
    asterisk: Pbx, store: AcdStore, listener: AmiListener
) -> None:
    # What a crashed FastAGI server leaves behind: a waiting caller, one ringing seat 1001,
    # one talking to seat 1002; none of their channels exists in Asterisk.
    for seat in ("1001", "1002"):
        store.set_registered(seat, True)
        store.set_state(seat, AgentState.AVAILABLE)
    for n, skills in enumerate(({"nobody_has_this": 1}, {"operator": 1}, {"operator": 1})):
        store.enqueue(WaitingCall(f"ghost.{n}", "operator", skills, enqueued_at=1_000.0 + n))
        store.try_match_call(f"ghost.{n}")
    store.set_state("1002", AgentState.ON_CALL)  # 1002 answered ghost.2
    assert store.get_agent("1001").state is AgentState.RINGING  # type: ignore[union-attr]
    asterisk.stop()
    assert eventually(lambda: not listener.synced.is_set())
    asterisk.start()
    assert eventually(lambda: listener.synced.is_set(), timeout=30)
    assert store.live_calls() == []
    for seat in ("1001", "1002"):
        agent = store.get_agent(seat)
        assert agent is not None and agent.state is AgentState.AVAILABLE and not agent.current_call


def test_a_quiet_ami_keeps_its_one_connection(
    asterisk: Pbx, store: AcdStore, listener: AmiListener
) -> None:
    # Nothing happens on AMI for longer than the client's 5 s read timeout: the listener
    # must neither reconnect nor re-sync (a re-sync briefly marked registered seats away).
    before = listener.connections
    threading.Event().wait(8)
    assert listener.connections == before
    assert listener.synced.is_set()


def held(check: Callable[[], bool], seconds: float) -> bool:
    """`check` is true at every look over `seconds` (a tenth of a second apart)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not check():
            return False
        time.sleep(0.1)
    return True


def test_a_seat_registering_again_from_a_new_address_stays_registered(
    asterisk: Pbx, store: AcdStore, listener: AmiListener
) -> None:
    # A softphone restarted on a new port while its old contact is still on record: the aor
    # keeps one contact (remove_existing), so Asterisk adds the new one and removes the old.
    # The old contact's Removed must not take the seat away from the new one.
    first = Softphone(asterisk, "1001")
    try:
        assert eventually(lambda: registered(store, "1001"), 15)
        second = Softphone(asterisk, "1001")
        try:
            assert eventually(lambda: f":{second.contact_port}" in contacts(asterisk, "1001"), 15)
            assert f":{first.contact_port}" not in contacts(asterisk, "1001")
            assert held(lambda: registered(store, "1001"), 3.0)
        finally:
            second.stop()
        assert eventually(lambda: not registered(store, "1001"), 15)
    finally:
        first.stop()


def contacts(asterisk: Pbx, seat: str) -> str:
    return asterisk.rx(f"pjsip show aor {seat}", check=False).stdout


def test_a_seat_listed_at_the_sync_goes_when_its_contact_is_removed(
    asterisk: Pbx, redis_url: str
) -> None:
    # The sync learns the contact from Asterisk's list, the removal from an event: both must
    # name it alike, or the seat would stay registered with nobody there.
    phone = Softphone(asterisk, "1002")
    late = seats_store(redis_url)
    try:
        assert eventually(lambda: f":{phone.contact_port}" in contacts(asterisk, "1002"), 15)
        with following(asterisk, late):
            assert registered(late, "1002") and not registered(late, "1001")
            phone.stop()
            assert eventually(lambda: not registered(late, "1002"), 15)
    finally:
        phone.stop()
        late.purge()
