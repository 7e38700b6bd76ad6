"""The classic AGI entry point runs the same IVR over stdin/stdout."""

from __future__ import annotations

import os
import select
import subprocess
import sys

import pytest

from hotline.settings import Settings
from ivr import callrecord
from ivr.app import IvrService

pytestmark = pytest.mark.integration


def test_classic_agi_runs_the_default_flow_over_pipes(
    stack_settings: Settings, ivr_service: IvrService
) -> None:
    env = {
        **os.environ,
        "HOTLINE_VAR_DIR": str(stack_settings.var_dir),
        "HOTLINE_RECORDINGS_DIR": str(stack_settings.recordings_dir),
        "HOTLINE_REDIS_URL": stack_settings.redis_url,
    }
    agi = subprocess.Popen(
        [sys.executable, "-m", "agi_scripts.ivr"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    assert agi.stdin is not None and agi.stdout is not None
    agi.stdin.write(
        "agi_request: hotline-agi-ivr\nagi_uniqueid: 1700000000.9\nagi_callerid: 13800138000\n"
        "agi_arg_1: classic.test.1@127.0.0.1\n\n"
    )
    agi.stdin.flush()
    # welcome; '1' at the language menu; '4' (order status); the number; '1' to confirm it.
    replies = iter(
        [
            "200 result=0 endpos=8000",
            "200 result=49 endpos=10",
            "200 result=52 endpos=10",
            "200 result=20261123000042",
            "200 result=49 endpos=10",
        ]
    )
    commands = []
    while select.select([agi.stdout], [], [], 20)[0]:
        line = agi.stdout.readline().strip()
        if not line:
            break
        commands.append(line)
        # After that the caller presses nothing: prompts end, menus time out.
        agi.stdin.write(next(replies, "200 result=0") + "\n")
        agi.stdin.flush()
    try:
        exit_code = agi.wait(10)  # it must end by itself once the IVR hands the call on
    finally:
        agi.kill()
    assert exit_code == 0, agi.stderr.read() if agi.stderr else ""
    assert (
        commands[0].startswith("STREAM FILE ") and str(stack_settings.recordings_dir) in commands[0]
    )
    assert any(c.startswith("GET DATA ") for c in commands)
    # No such order: the caller hears so, presses nothing more and is said goodbye to.
    assert commands[-1] == 'SET VARIABLE "HOTLINE_IVR_RESULT" "done"'
    record = callrecord.get(ivr_service.engine, "1700000000.9")
    assert record is not None and record.sip_call_id == "classic.test.1@127.0.0.1"
    path = [(step["node"], step["outcome"]) for step in record.path]
    assert ("order_lookup", "not_found") in path, path
    assert path[-1][0] == "end_goodbye", path


def test_classic_agi_with_a_bad_setting_says_so_in_one_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "agi_scripts.ivr"],
        input="", capture_output=True, text=True, timeout=30,
        env={**os.environ, "HOTLINE_SIP_PORT": "not-a-port"},
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.startswith("hotline: bad setting HOTLINE_SIP_PORT")
