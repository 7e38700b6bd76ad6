"""Real SIP calls (SIPp) through the real Asterisk 22 sandbox into the FastAGI server."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from hotline.pbx.runner import Pbx
from ivr.fastagi import FastAgiServer
from tests.integration.calls import Dialer, acd_events, nodes, steps

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


@pytest.mark.parametrize("dtmf", ["info", "rfc2833"])
def test_call_reaches_ivr_hears_prompt_and_keys_arrive(dialer: Dialer, dtmf: str) -> None:
    result = dialer.call("12", dtmf=dtmf)
    assert result.outcome == "completed", result.detail
    path = steps(result)
    # The welcome played to its end (a failed playback would have ended the call there).
    assert path[0][0] == "welcome"
    assert ("choose_language", "1", "language:zh") in path
    main = [s for s in path if s[0] == "main_menu"]
    assert main and main[0][1] == "2"
    assert nodes(result)[-1] == "wage_arrears_queue"
    assert result.record is not None
    assert acd_events(dialer.ivr, result.record["uniqueid"]) == ["enqueue", "abandon"]


def test_caller_hanging_up_mid_prompt_is_a_clean_hangup(
    dialer: Dialer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    result = dialer.call("", hold_ms=1500)
    assert result.outcome == "completed"
    assert result.record is not None
    assert result.record["result"] == "hangup"
    assert nodes(result) == ["welcome"]
    ours = [r for r in caplog.records if getattr(r, "uniqueid", "") == result.record["uniqueid"]]
    assert "call.hangup" in [r.getMessage() for r in ours]
    assert not [r for r in ours if r.levelno >= logging.ERROR]


def test_hostile_caller_id_is_reduced_to_digits(dialer: Dialer) -> None:
    result = dialer.call("", hold_ms=1000, caller="1380013%24%7BEXTEN%7D8000;x=1")
    assert result.record is not None
    assert result.record["caller"].isdigit()
    assert result.record["caller"].startswith("1380013")


def test_unknown_number_is_refused(dialer: Dialer) -> None:
    result = dialer.call("", number="99999", hold_ms=500)
    assert result.outcome == "failed"
    assert result.record is None


def test_server_down_call_falls_back_within_a_second(
    asterisk: Pbx, agi_server: FastAgiServer, dialer: Dialer
) -> None:
    """No FastAGI server listening: the dialplan sends the caller to the fallback queue."""
    agi_server.shutdown()
    try:
        _fallback_case(asterisk, dialer)
    finally:
        agi_server.start()


def _fallback_case(asterisk: Pbx, dialer: Dialer) -> None:
    seen: dict[str, float] = {}

    def watch() -> None:
        start = time.monotonic()
        while time.monotonic() - start < 8 and "fallback" not in seen:
            out = asterisk.rx("core show channels concise", check=False).stdout
            if "hotline-fallback" in out and "Queue" in out:
                seen["fallback"] = time.monotonic()
            time.sleep(0.05)

    placed = time.monotonic()
    watcher = threading.Thread(target=watch)
    watcher.start()
    result = dialer.call("", hold_ms=4000, first_key_ms=0)
    watcher.join()
    assert result.outcome == "completed", result.detail
    assert result.record is None  # the IVR never saw it
    assert "fallback" in seen, "the caller was not put in the fallback queue"
    # SIPp's INVITE/200 plus Asterisk's refused connection: well under a second.
    assert seen["fallback"] - placed < 1.5
