"""The FastAGI server against a fake Asterisk speaking the real protocol on a free port."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator

import pytest

from ivr import channel_vars as cv
from ivr.fastagi import AgiCall, FastAgiServer, parse_script
from tests.conftest import eventually
from tests.fake_asterisk import FakeAsterisk

pytestmark = pytest.mark.integration


def serve(routes: dict[str, object], **kwargs: object) -> FastAgiServer:
    server = FastAgiServer(routes, host="127.0.0.1", port=0, **kwargs)  # type: ignore[arg-type]
    server.start()
    return server


@pytest.fixture
def received() -> list[str]:
    return []


@pytest.fixture
def server(received: list[str]) -> Iterator[FastAgiServer]:
    def ivr(call: AgiCall) -> None:
        digits = call.agi.get_data("welcome", timeout=3000, max_digits=2)
        received.append(digits)
        call.agi.set_variable(cv.IVR_RESULT, cv.RESULT_DONE)

    def boom(call: AgiCall) -> None:
        raise RuntimeError("bug in a handler")

    srv = serve({"ivr": ivr, "boom": boom})
    yield srv
    srv.shutdown()


def test_parse_script_routes_on_path_and_keeps_query() -> None:
    assert parse_script("ivr") == ("ivr", {})
    assert parse_script("/agent-login?seat=1001") == ("agent-login", {"seat": "1001"})


def test_call_is_routed_and_commands_use_pyst2_syntax(
    server: FastAgiServer, received: list[str]
) -> None:
    fake = FakeAsterisk(server.address[1])
    assert fake.next_command() == "GET DATA welcome 3000 2"
    fake.reply("200 result=42")
    assert fake.next_command() == f'SET VARIABLE "{cv.IVR_RESULT}" "done"'
    fake.reply()
    assert fake.closed_by_server()
    assert received == ["42"]


def test_hangup_mid_command_ends_the_call_without_a_traceback(
    server: FastAgiServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="hotline.agi")
    fake = FakeAsterisk(server.address[1])
    fake.next_command()
    # Asterisk's in-band HANGUP comes first, so no probe is needed.
    fake.send("HANGUP\n200 result=-1\n")
    assert fake.closed_by_server()
    events = [r.getMessage() for r in caplog.records]
    assert "call.hangup" in events and "call.error" not in events
    assert not any(r.exc_info for r in caplog.records)


def test_dead_channel_reply_is_a_hangup(
    server: FastAgiServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="hotline.agi")
    fake = FakeAsterisk(server.address[1])
    fake.next_command()
    fake.reply("200 result=-1")
    assert fake.next_command() == "CHANNEL STATUS"
    fake.reply("511 Command Not Permitted on a dead channel or intercept routine")
    assert fake.closed_by_server()
    assert "call.hangup" in [r.getMessage() for r in caplog.records]


def test_connection_dropped_by_asterisk_is_a_hangup(
    server: FastAgiServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="hotline.agi")
    fake = FakeAsterisk(server.address[1])
    fake.next_command()
    fake.close()
    assert eventually(lambda: server.active_calls == 0)
    assert "call.hangup" in [r.getMessage() for r in caplog.records]


def test_failed_command_on_a_live_channel_is_an_error_not_a_hangup(
    server: FastAgiServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="hotline.agi")
    fake = FakeAsterisk(server.address[1])
    fake.next_command()
    fake.reply("200 result=-1")
    assert fake.next_command() == "CHANNEL STATUS"
    fake.reply("200 result=6")
    # The server tells the dialplan to fall back, then closes.
    assert fake.next_command() == f'SET VARIABLE "{cv.IVR_RESULT}" "error"'
    fake.reply()
    assert fake.closed_by_server()
    assert "call.error" in [r.getMessage() for r in caplog.records]


def test_handler_bug_falls_back_and_server_keeps_serving(
    server: FastAgiServer, received: list[str]
) -> None:
    fake = FakeAsterisk(server.address[1], script="boom")
    assert fake.next_command() == f'SET VARIABLE "{cv.IVR_RESULT}" "error"'
    fake.reply()
    assert fake.closed_by_server()
    second = FakeAsterisk(server.address[1])
    second.next_command()
    second.reply("200 result=49")
    second.answer_all()
    assert received == ["1"] or received == ["49"]


def test_unknown_script_falls_back(server: FastAgiServer) -> None:
    fake = FakeAsterisk(server.address[1], script="no-such-thing")
    assert fake.next_command() == f'SET VARIABLE "{cv.IVR_RESULT}" "error"'


def test_over_capacity_calls_are_sent_to_the_fallback() -> None:
    release = threading.Event()

    def slow(call: AgiCall) -> None:
        release.wait(5)

    srv = serve({"ivr": slow}, max_calls=1)
    try:
        first = FakeAsterisk(srv.address[1])
        assert eventually(lambda: srv.active_calls == 1)
        second = FakeAsterisk(srv.address[1])
        assert second.next_command() == f'SET VARIABLE "{cv.IVR_RESULT}" "overload"'
        second.reply()
        assert second.closed_by_server()
        release.set()
        first.close()
    finally:
        srv.shutdown()


def test_shutdown_lets_running_calls_finish_and_refuses_new_ones() -> None:
    finished = threading.Event()

    def ivr(call: AgiCall) -> None:
        call.agi.get_data("welcome", timeout=3000, max_digits=1)
        finished.set()

    srv = serve({"ivr": ivr}, drain_s=5)
    port = srv.address[1]
    fake = FakeAsterisk(port)
    fake.next_command()
    stopper = threading.Thread(target=srv.shutdown)
    stopper.start()
    time.sleep(0.2)
    with pytest.raises(OSError):
        FakeAsterisk(port)
    fake.reply("200 result=49")
    stopper.join(5)
    assert finished.is_set() and not stopper.is_alive()


def test_three_hundred_concurrent_calls() -> None:
    answered: list[str] = []
    lock = threading.Lock()

    def ivr(call: AgiCall) -> None:
        for _ in range(3):
            digit = call.agi.wait_for_digit(1000)
        with lock:
            answered.append(digit)

    srv = serve({"ivr": ivr}, max_calls=1000)
    try:
        fakes = [FakeAsterisk(srv.address[1], env={"agi_uniqueid": f"c{i}"}) for i in range(300)]
        assert eventually(lambda: srv.active_calls == 300)
        for _ in range(3):
            for fake in fakes:
                fake.next_command()
                fake.reply("200 result=55")
        assert eventually(lambda: len(answered) == 300)
        assert set(answered) == {"7"}
    finally:
        srv.shutdown()


def test_log_lines_are_json_with_the_unique_id(
    server: FastAgiServer, capfd: pytest.CaptureFixture[str]
) -> None:
    from hotline.logs import configure

    root = logging.getLogger()
    saved = root.handlers[:], root.level
    configure("info")
    try:
        fake = FakeAsterisk(server.address[1], env={"agi_uniqueid": "1700000000.77"})
        fake.next_command()
        fake.reply("200 result=49")
        fake.answer_all()
        assert eventually(lambda: server.active_calls == 0)
        err = capfd.readouterr().err
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    lines = [json.loads(x) for x in err.splitlines() if x.startswith("{")]
    ends = [x for x in lines if x["event"] == "call.end"]
    assert ends and ends[-1]["uniqueid"] == "1700000000.77" and ends[-1]["script"] == "ivr"
