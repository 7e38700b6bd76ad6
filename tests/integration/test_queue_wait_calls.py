"""A caller waiting in the IVR's queue node, on the real Asterisk, Redis and SIPp phones:
escalation when its step's time comes, position announcements, a callback that keeps the
caller's place, the message key and the overflow after the queue's maximum wait."""

from __future__ import annotations

import logging
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml

from acd.desk import SeatDesk
from acd.model import AgentState, CallStatus
from hotline.pbx.ami_listener import AmiListener
from hotline.pbx.runner import Pbx
from hotline.settings import Settings
from hotline.sip.caller import place_call
from hotline.sip.scenario import CallerScript
from ivr import flowstore
from ivr.acd_queue import CALLBACK_REASON, RecentFigures
from ivr.app import IvrService
from ivr.flow import Prompt
from ivr.flow.validate import parse_flow_yaml
from ivr.publishing import packaged_flow_text, publish_flow
from tests.conftest import eventually, prompt_ms
from tests.integration.calls import Dialer, nodes, steps
from tests.integration.test_acd_calls import (  # noqa: F401 (fixtures)
    Softphone,
    desk,
    presence,
    softphones,
)

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

ESCALATE_AFTER_S = 6
ANNOUNCE_EVERY_S = 5
OVERFLOW_AFTER_S = 6


def queue_test_flow() -> str:
    """The packaged flow with short queue times, so each behaviour shows within one call."""
    data, issues = parse_flow_yaml(packaged_flow_text())
    assert not issues, issues
    data["nodes"]["wage_arrears_queue"]["params"]["min_level"] = 3
    data["queues"] = {
        # No keys here: the waiting thread blocks on the offer itself (no digit slices).
        "wage_arrears": {
            "max_wait_s": 60,
            "callback_key": None,
            "message_key": None,
            "escalation": [{"after_s": ESCALATE_AFTER_S, "min_level_delta": -2}],
        },
        "work_injury": {"max_wait_s": OVERFLOW_AFTER_S, "overflow": "staff_busy"},
        "operator": {"max_wait_s": 60, "announce_every_s": ANNOUNCE_EVERY_S},
    }
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


@pytest.fixture(scope="module")
def queue_flow(ivr_service: IvrService, stack_settings: Settings) -> Iterator[None]:
    engine, flow_id = ivr_service.engine, ivr_service.flow_id
    before = flowstore.active_version(engine, flow_id)
    publish_flow(engine, stack_settings.recordings_dir, queue_test_flow(), by="queue test")
    time.sleep(0.6)  # the flow cache re-reads at most every 500 ms
    yield
    if before is not None:
        flowstore.activate(engine, flow_id, before)
        time.sleep(0.6)


def acd_times(ivr: IvrService, call_id: str) -> dict[str, float]:
    """When the ACD did what with the call: event type -> first time (s), from stream ids."""
    seen: dict[str, float] = {}
    for entry_id, fields in ivr.acd.events():
        if fields.get("call") == call_id:
            seen.setdefault(fields["type"], int(entry_id.split("-")[0]) / 1000)
    return seen


def registered(ivr: IvrService, seat: str) -> bool:
    agent = ivr.acd.get_agent(seat)
    return agent is not None and agent.registered


def queue_keys(dialer: Dialer, menu: str, *in_queue: tuple[str, int]) -> dict[str, Any]:
    """Language 1, a main-menu choice, then keys pressed while waiting (key, ms after)."""
    keys = "1" + menu + "".join(key for key, _ in in_queue)
    waits = (dialer.after_welcome_ms(), 1200, *(ms for _, ms in in_queue))
    return {"keys": keys, "waits_ms": waits}


def test_a_lower_level_seat_gets_the_call_only_when_the_escalation_step_is_reached(
    dialer: Dialer, ivr_service: IvrService, queue_flow: None,
    presence: AmiListener, softphones: Callable[..., Softphone], desk: SeatDesk,  # noqa: F811
) -> None:  # fmt: skip
    softphones("1003")  # wage_arrears:1, the call asks for 3
    assert eventually(lambda: registered(ivr_service, "1003"), 15)
    desk.ready("1003")
    result = dialer.call(**queue_keys(dialer, "2"), hold_ms=ESCALATE_AFTER_S * 1000 + 6000)
    assert result.record is not None, result.as_dict()
    uniqueid = result.record["uniqueid"]
    assert nodes(result)[-1] == "wage_arrears_queue"  # talking when the caller hung up
    times = acd_times(ivr_service, uniqueid)
    assert {"enqueue", "offer", "finish"} <= times.keys(), times
    waited = times["offer"] - times["enqueue"]
    # Not before the step (the seat was free all along), and at once when it came: a timer.
    assert ESCALATE_AFTER_S - 0.05 <= waited < ESCALATE_AFTER_S + 1.0, waited
    offers = [f for _, f in ivr_service.acd.events() if f.get("call") == uniqueid
              and f["type"] == "offer"]  # fmt: skip
    assert [f["agent"] for f in offers] == ["1003"]


def test_position_and_estimated_wait_are_announced_every_n_seconds(
    dialer: Dialer, ivr_service: IvrService, queue_flow: None, stack_settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    store = ivr_service.acd
    store.client.delete(store.keys.recent("operator", "handle"),
                        store.keys.recent("operator", "wait"))  # fmt: skip
    RecentFigures(store, 20).add("operator", "wait", 90.0)  # nobody staffed: the wait decides
    # Rendered before the call, so the gap between announcements is play time, not TTS.
    flow = ivr_service.flows.get(ivr_service.flow_id).flow
    spoken_ms = 0
    for prompt_id in ("queue_position", "queue_wait"):
        text = flow.prompts[prompt_id]["zh"].replace("{position}", "1")
        text = text.replace("{wait_minutes}", "2")
        path = ivr_service.audio.path(Prompt(prompt_id, "zh", text))
        spoken_ms += prompt_ms(stack_settings.recordings_dir, path)
    caplog.set_level(logging.INFO, logger="hotline.acd")
    hold_ms = 2 * ANNOUNCE_EVERY_S * 1000 + spoken_ms + 6000
    result = dialer.call(**queue_keys(dialer, "5"), hold_ms=hold_ms)
    assert result.record is not None, result.as_dict()
    uniqueid = result.record["uniqueid"]
    assert nodes(result)[-1] == "operator_queue"
    said = [
        r
        for r in caplog.records
        if r.getMessage() == "acd.announced" and getattr(r, "uniqueid", "") == uniqueid
    ]
    assert len(said) >= 2, [r.getMessage() for r in caplog.records]
    assert all(getattr(r, "position", None) == 1 for r in said)
    assert all(getattr(r, "wait_s", None) == 90 for r in said)  # 90 s -> "about 2 minutes"
    enqueued = acd_times(ivr_service, uniqueid)["enqueue"]
    assert ANNOUNCE_EVERY_S - 0.1 <= said[0].created - enqueued < ANNOUNCE_EVERY_S + 1.0
    # The next one comes N seconds after the first has been played in full (STREAM FILE).
    gap = said[1].created - said[0].created
    expected = ANNOUNCE_EVERY_S + spoken_ms / 1000
    assert expected - 0.2 <= gap < expected + 1.5, (gap, expected)


def test_the_callback_key_keeps_the_place_and_the_seat_calls_back_in_order(
    dialer: Dialer, ivr_service: IvrService, queue_flow: None, asterisk: Pbx,
    presence: AmiListener, softphones: Callable[..., Softphone], desk: SeatDesk,  # noqa: F811
    stack_settings: Settings,
) -> None:  # fmt: skip
    store = ivr_service.acd
    host, port = stack_settings.carrier_address.split(":")
    carrier = subprocess.Popen(
        ["sipp", "-sn", "uas", "-p", port, "-i", host, "-nostdin", "-m", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        softphones("1003")
        assert eventually(lambda: registered(ivr_service, "1003"), 15)
        first = dialer.call(**queue_keys(dialer, "5", ("1", 2500)), caller="13900000001",
                            hold_ms=15_000)  # fmt: skip
        assert first.record is not None, first.as_dict()
        first_id = first.record["uniqueid"]
        assert ("operator_queue", None, "callback") in steps(first)
        assert nodes(first)[-1] == "end_callback_kept"
        kept = store.get_call(first_id)
        assert kept is not None and kept.status is CallStatus.WAITING  # hung up, still in line
        with ThreadPoolExecutor(1) as pool:
            second = pool.submit(dialer.call, **queue_keys(dialer, "5"), caller="13900000002",
                                 hold_ms=12_000)  # fmt: skip
            assert eventually(lambda: len(store.waiting_calls("operator")) == 2, 20)
            # Right after it is put in line, an arriving call looks for a free seat itself; a
            # seat freed in that moment goes to it by arrival, not by order. Let that pass.
            newest = max(c.enqueued_at for c in store.waiting_calls("operator"))
            time.sleep(max(0.0, newest + 1.5 - time.time()))
            match = desk.ready("1003")
            # first come, first served
            assert match is not None and match.call_id == first_id, (
                store.get_agent("1003"), store.waiting_calls("operator"),
                acd_times(ivr_service, first_id),
            )  # fmt: skip

            def dialled() -> bool:
                channels = asterisk.rx("core show channels verbose").stdout
                return "PJSIP/1003-" in channels and "13900000001" in channels

            assert eventually(dialled, 20), asterisk.rx("core show channels verbose").stdout
            seat = store.get_agent("1003")
            assert seat is not None and seat.state is AgentState.PAUSED
            assert store.client.hget(store.keys.agent("1003"), "reason") == CALLBACK_REASON
            assert {"offer", "finish"} <= acd_times(ivr_service, first_id).keys()
            waiting = [c.call_id for c in store.waiting_calls("operator")]
            assert len(waiting) == 1 and waiting[0] != first_id  # the later caller still waits
            later = second.result(timeout=60)
        assert later.record is not None
        assert "offer" not in acd_times(ivr_service, later.record["uniqueid"])
    finally:
        carrier.terminate()
        carrier.wait(10)
        # A callback still kept (the test failed before a seat took it) would be offered to
        # the next test's seat, which would then dial a carrier that is gone.
        for call in store.waiting_calls("operator"):
            store.remove_call(call.call_id)


def test_the_message_key_records_a_message_named_after_the_call(
    dialer: Dialer, ivr_service: IvrService, queue_flow: None, stack_settings: Settings,
    tmp_path: Path,
) -> None:  # fmt: skip
    # The caller's phone sends a tone all along, so the message holds audio; '#' ends it.
    tone = tmp_path / "tone.wav"
    subprocess.run(["sox", "-V1", "-n", "-r", "8000", "-c", "1", "-e", "u-law", str(tone),
                    "synth", "30", "sine", "440", "vol", "0.3"], check=True)  # fmt: skip
    keys = queue_keys(dialer, "5", ("2", 2500), ("#", 5000))
    script = CallerScript(keys=keys["keys"], waits_ms=keys["waits_ms"], hold_ms=9000,
                          audio_wav=str(tone), audio_loops=-1)  # fmt: skip
    target = f"{stack_settings.sip_bind}:{stack_settings.sip_port}"
    result = place_call(target, stack_settings.hotline_number, script, dialer.lookup, timeout_s=90)
    assert result.record is not None, result.as_dict()
    uniqueid = result.record["uniqueid"]
    assert ("operator_queue", None, "message") in steps(result)
    assert ("leave_message", None, "recorded") in steps(result)
    assert nodes(result)[-1] == "end_message_recorded"  # "message received ... goodbye"
    message = stack_settings.recordings_dir / "messages" / f"{uniqueid}.wav"
    assert message.exists(), message
    assert message.stat().st_size >= 8000  # seconds of audio, not a header
    assert ivr_service.acd.get_call(uniqueid) is None  # out of line


def test_the_max_wait_sends_the_caller_to_the_overflow_node(
    dialer: Dialer, ivr_service: IvrService, queue_flow: None,
) -> None:  # fmt: skip
    result = dialer.call(**queue_keys(dialer, "3"), hold_ms=OVERFLOW_AFTER_S * 1000 + 7000)
    assert result.record is not None, result.as_dict()
    uniqueid = result.record["uniqueid"]
    path = nodes(result)
    assert ("work_injury_queue", None, "overflow") in steps(result)
    assert path[path.index("work_injury_queue") + 1] == "staff_busy"
    times = acd_times(ivr_service, uniqueid)
    assert OVERFLOW_AFTER_S - 0.1 <= times["abandon"] - times["enqueue"] < OVERFLOW_AFTER_S + 1.0
    assert ivr_service.acd.get_call(uniqueid) is None
