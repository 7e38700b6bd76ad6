"""The AMI listener against the real Asterisk: SIPp softphones register, Asterisk restarts."""

from __future__ import annotations

import subprocess
import tempfile
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from acd.keys import AcdKeys
from acd.model import Agent, Role
from acd.store import AcdStore, connect
from hotline.pbx import ami
from hotline.pbx.ami_listener import AmiListener
from hotline.pbx.runner import Pbx
from hotline.sip.caller import free_port
from hotline.sip.seat import SeatPhone, registration_scenario
from tests.conftest import eventually

pytestmark = pytest.mark.integration


@pytest.fixture
def store(redis_url: str) -> Iterator[AcdStore]:
    acd = AcdStore(connect(redis_url), keys=AcdKeys(prefix=f"test:{uuid.uuid4().hex[:8]}:"))
    for seat in ("1001", "1002"):
        acd.upsert_agent(Agent(id=seat, role=Role.OPERATOR, skills={"operator": 1}))
    yield acd
    acd.purge()


@pytest.fixture
def listener(asterisk: Pbx, store: AcdStore) -> Iterator[AmiListener]:
    s = asterisk.settings
    follower = AmiListener(
        connect=lambda: ami.login(s.ami_host, s.ami_port, s.ami_user, asterisk.creds.ami_secret),
        presence=store,
        seats=["1001", "1002"],
        retry_s=0.3,
    )
    stop = threading.Event()
    thread = threading.Thread(target=follower.run, args=(stop,), daemon=True)
    thread.start()
    assert follower.synced.wait(10), "the listener never synced"
    yield follower
    stop.set()
    thread.join(5)


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
