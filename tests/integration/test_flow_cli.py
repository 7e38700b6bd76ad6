"""`hotline flow validate|publish|activate|versions` against a real database and real TTS."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import need

pytestmark = pytest.mark.integration

FLOWS = Path(__file__).parents[1] / "unit" / "flows"


def hotline(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "HOTLINE_VAR_DIR": str(tmp_path / "var"),
        "HOTLINE_RECORDINGS_DIR": str(tmp_path / "recordings"),
    }
    return subprocess.run(
        [sys.executable, "-m", "hotline.cli", *args],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip


def test_validate_accepts_a_good_flow(tmp_path: Path) -> None:
    result = hotline(tmp_path, "flow", "validate", str(FLOWS / "minimal.yaml"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "flow 'minimal' is valid" in result.stdout


def test_validate_names_the_node_and_the_problem(tmp_path: Path) -> None:
    result = hotline(tmp_path, "flow", "validate", str(FLOWS / "unknown_node.yaml"))
    assert result.returncode == 1
    assert "node 'main'" in result.stdout and "legl" in result.stdout


def test_validate_malformed_yaml_gives_the_line(tmp_path: Path) -> None:
    result = hotline(tmp_path, "flow", "validate", str(FLOWS / "malformed_yaml.yaml"))
    assert result.returncode == 1
    assert "line" in result.stdout and "Traceback" not in result.stderr


def test_missing_file_is_one_line(tmp_path: Path) -> None:
    result = hotline(tmp_path, "flow", "validate", str(tmp_path / "nope.yaml"))
    assert result.returncode == 2
    assert (
        result.stderr.startswith("hotline: can't read flow file")
        and "Traceback" not in result.stderr
    )


def test_publish_renders_prompts_keeps_versions_and_rolls_back(tmp_path: Path) -> None:
    need(shutil.which("espeak-ng") is not None, "espeak-ng (apt-get install espeak-ng sox)")
    flow = FLOWS / "minimal.yaml"
    first = hotline(tmp_path, "flow", "publish", str(flow), "--by", "admin")
    assert first.returncode == 0, first.stderr
    assert "flow 'minimal' version 1 is live" in first.stdout
    prompts = list((tmp_path / "recordings" / "prompts").glob("*.sln"))
    assert len(prompts) == 2  # 'hi' in zh and en
    changed = tmp_path / "v2.yaml"
    changed.write_text(flow.read_text().replace("Hello", "Hello there"))
    assert "version 2 is live" in hotline(tmp_path, "flow", "publish", str(changed)).stdout
    assert hotline(tmp_path, "flow", "activate", "minimal", "1").returncode == 0
    listing = hotline(tmp_path, "flow", "versions", "minimal").stdout.splitlines()
    assert len(listing) == 2
    assert listing[0].startswith("*    1") and listing[1].startswith("     2")


def test_publish_refuses_an_invalid_flow_and_stores_nothing(tmp_path: Path) -> None:
    result = hotline(tmp_path, "flow", "publish", str(FLOWS / "unreachable.yaml"))
    assert result.returncode == 1
    assert "not reachable" in result.stdout
    assert hotline(tmp_path, "flow", "versions", "unreachable").stdout == ""


def test_asterisk_start_with_the_sip_port_taken_is_one_line(tmp_path: Path) -> None:
    import socket

    need(os.geteuid() == 0, "root (the Asterisk sandbox uses chroot and mount)")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as busy:
        busy.bind(("127.0.0.1", 0))
        port = busy.getsockname()[1]
        env = {
            **os.environ,
            "HOTLINE_SIP_PORT": str(port),
            "HOTLINE_ASTERISK_INSTANCE": "portcheck",
            "HOTLINE_VAR_DIR": str(tmp_path / "var"),
            "HOTLINE_ASTERISK_MODE": "sandbox",
        }
        result = subprocess.run(
            [sys.executable, "-m", "hotline.cli", "asterisk", "start"],
            capture_output=True, text=True, timeout=300, env=env,
        )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr == (
        f"hotline: port {port}/udp on 127.0.0.1 is taken by another program: "
        "stop it or set HOTLINE_SIP_PORT\n"
    )
