"""CallSession executes the engine's instructions on a channel (a fake channel here)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import redis

from hotline.callevents.stream import CallEventLog
from ivr import channel_vars as cv
from ivr.fastagi import AgiCall
from ivr.flow import FlowRun, Handoff, Outcome, Prompt, load_flow
from ivr.handoffs import message_recorder, to_operator, to_queue
from ivr.journal import CallJournal
from ivr.publishing import packaged_flow_text
from ivr.session import CallSession, DialplanTransfer

pytestmark = pytest.mark.unit

TUESDAY_10AM = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


class FakeChannel:
    """Answers STREAM FILE / GET DATA / WAIT FOR DIGIT from a list of caller inputs."""

    def __init__(self, inputs: list[str]) -> None:
        self.inputs = inputs
        self.log: list[tuple[str, Any]] = []
        self.env = {"agi_uniqueid": "1700000000.5"}

    def _next(self) -> str:
        return self.inputs.pop(0) if self.inputs else ""

    def stream_file(self, path: str, escape: str) -> str:
        self.log.append(("stream", (path, escape)))
        return self._next() if escape else ""

    def get_data(self, path: str, timeout: int, max_digits: int) -> str:
        self.log.append(("get_data", (path, max_digits)))
        return self._next()

    def wait_for_digit(self, timeout: int) -> str:
        self.log.append(("wait", timeout))
        return self._next()


class FakeAudio:
    def path(self, prompt: Prompt) -> str:
        return f"/prompts/{prompt.id}.{prompt.language}"


def run(inputs: list[str], handoffs: dict[str, Any] | None = None) -> tuple[Any, FakeChannel]:
    channel = FakeChannel(inputs)
    call = AgiCall(agi=channel, script="ivr", params={})  # type: ignore[arg-type]
    flow = load_flow(packaged_flow_text())
    session = CallSession(call, FakeAudio(), handoffs or {"queue": to_queue}, to_operator)
    return session.drive(FlowRun(flow, clock=TUESDAY_10AM, caller="13800138000")), channel


def test_welcome_plays_without_barge_in_then_menus_take_keys() -> None:
    end, channel = run(["", "1", "2"])  # welcome, language 1, main menu 2
    assert channel.log[0] == ("stream", ("/prompts/welcome.zh", ""))
    assert end.transfer == DialplanTransfer(
        cv.RESULT_QUEUE, {cv.QUEUE: "wage_arrears", cv.LANGUAGE: "zh"}
    )


def test_order_number_is_read_with_room_for_the_terminator() -> None:
    # welcome, language, menu, the number, nothing during the intro, '1' during the read-back
    end, channel = run(["", "1", "4", "20261123000042", "", "1"])
    get_data = [args for kind, args in channel.log if kind == "get_data"]
    assert get_data and get_data[0][1] == 15  # 14 digits + '#'
    # The read-back is spoken by the prompt voice: one prompt holding the digits.
    assert ("stream", ("/prompts/digits.zh", "0123456789*#")) in channel.log
    # No order-status adapter here: the caller goes to an operator.
    assert end.transfer is not None and end.transfer.variables[cv.QUEUE] == "operator"


def test_a_handoff_adapter_outcome_continues_the_flow() -> None:
    def booked(call: AgiCall, handoff: Handoff) -> Outcome:
        return Outcome("found", {"order_status": "handling"})

    inputs = ["", "1", "4", "20261123000042", "", "1", "", ""]
    end, _ = run(inputs, {"order_status": booked})
    assert end.transfer is None and end.result == "completed"


def test_unsafe_queue_name_from_a_flow_goes_to_the_operator() -> None:
    call = AgiCall(agi=FakeChannel([]), script="ivr", params={})  # type: ignore[arg-type]
    handoff = Handoff("queue", "q", {"queue": "x,1;Dial(PJSIP/evil)"}, "zh", {})
    assert to_queue(call, handoff).variables[cv.QUEUE] == "operator"


class RecordingChannel(FakeChannel):
    """RECORD FILE writes `<name>.<format>` as Asterisk does."""

    def __init__(self, seconds: float) -> None:
        super().__init__([])
        self.env = {"agi_uniqueid": "1795457417.0"}
        self.seconds = seconds

    def record_file(self, path: str, fmt: str, *args: Any) -> None:
        with open(f"{path}.{fmt}", "wb") as out:
            out.write(b"\0" * int(16000 * self.seconds))


@pytest.mark.parametrize("seconds,outcome", [(2.0, "recorded"), (0.1, "empty")])
def test_a_left_message_is_found_under_the_unique_id(
    tmp_path: Path, seconds: float, outcome: str
) -> None:
    (tmp_path / "messages").mkdir()
    call = AgiCall(agi=RecordingChannel(seconds), script="ivr", params={})  # type: ignore[arg-type]
    handoff = Handoff("message", "leave_message", {"max_seconds": 60}, "zh", {})
    journal = CallJournal(CallEventLog(redis.Redis(), tmp_path), figures=None)
    assert message_recorder(tmp_path, journal)(call, handoff) == Outcome(outcome)
    left = journal.facts("1795457417.0").message
    wav = str(tmp_path / "messages" / "1795457417.0.wav")
    assert left == (wav if outcome == "recorded" else None)
