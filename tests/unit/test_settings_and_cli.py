"""Settings validation and the CLI's one-line errors for bad configuration."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from hotline.cli import main
from hotline.errors import ConfigError
from hotline.pbx.install import parse_version
from hotline.settings import load_settings

pytestmark = pytest.mark.unit


def test_defaults_run_on_one_machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.database_url == f"sqlite:///{tmp_path / 'var' / 'hotline.db'}"
    assert settings.redis_url.startswith("redis://127.0.0.1")
    assert settings.sip_bind == settings.ami_host == settings.agi_host == "127.0.0.1"


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_SIP_PORT", "5999")
    monkeypatch.setenv("HOTLINE_DATABASE_URL", "postgresql://u@db/hotline")
    settings = load_settings()
    assert settings.sip_port == 5999
    assert settings.sqlite_path is None


def test_unknown_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_ASTERISK_MODE", "docker")
    with pytest.raises(ConfigError, match="HOTLINE_ASTERISK_MODE='docker'"):
        load_settings()


def test_unknown_variable_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_SIP_PROT", "5060")
    with pytest.raises(ConfigError, match="unknown setting HOTLINE_SIP_PROT"):
        load_settings()


def test_hotline_number_must_be_digits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_HOTLINE_NUMBER", "12351;Dial(x)")
    with pytest.raises(ConfigError, match="HOTLINE_HOTLINE_NUMBER"):
        load_settings()


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hotline.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=60,
    )


def test_cli_bad_setting_is_one_line_not_a_traceback() -> None:
    result = _cli("asterisk", "status", env={"HOTLINE_ASTERISK_MODE": "docker"})
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("hotline: bad setting HOTLINE_ASTERISK_MODE")


@pytest.mark.integration  # binds a real socket
def test_cli_port_taken_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = _cli(
            "agi",
            env={
                "HOTLINE_AGI_PORT": str(port),
                "HOTLINE_VAR_DIR": str(tmp_path / "var"),
                "HOTLINE_RECORDINGS_DIR": str(tmp_path / "rec"),
            },
        )
    assert result.returncode == 2, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert (
        last == f"hotline: port {port}/tcp on 127.0.0.1 is taken by another program: "
        "stop it or set HOTLINE_AGI_PORT"
    )
    assert "Traceback" not in result.stderr


def test_sandbox_without_root_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setenv("HOTLINE_ASTERISK_MODE", "sandbox")
    monkeypatch.setenv("HOTLINE_ASTERISK_SANDBOX_DIR", str(tmp_path / "sid"))
    monkeypatch.setenv("HOTLINE_VAR_DIR", str(tmp_path / "var"))
    assert main(["asterisk", "install"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hotline: building the Asterisk sandbox needs root")
    assert "HOTLINE_ASTERISK_MODE=system" in err and err.count("\n") == 1


def test_system_mode_without_asterisk_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("HOTLINE_ASTERISK_MODE", "system")
    monkeypatch.setenv("HOTLINE_VAR_DIR", str(tmp_path / "var"))
    assert main(["asterisk", "install"]) == 2
    assert "no Asterisk 20+ is on PATH" in capsys.readouterr().err


@pytest.mark.parametrize(
    "line,expected",
    [
        ("Asterisk 22.10.1+dfsg+~cs6.17.60671434-1", (22, 10)),
        ("Asterisk 20.5.0", (20, 5)),
        ("Asterisk certified/18.9-cert7", (18, 9)),
    ],
)
def test_asterisk_version_parsing(line: str, expected: tuple[int, int]) -> None:
    assert parse_version(line) == expected


def test_asterisk_version_garbage_is_refused() -> None:
    with pytest.raises(ValueError):
        parse_version("command not found")
