"""Places one simulated call with SIPp and reads back what the IVR recorded for it."""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hotline.errors import ConfigError
from hotline.sip.dtmf import pcap_bytes
from hotline.sip.scenario import CallerScript, caller_scenario

RecordLookup = Callable[[str], dict[str, Any] | None]


@dataclass
class CallResult:
    number: str
    outcome: str  # "completed" or "failed"
    sip_call_id: str
    seconds: float
    detail: str = ""
    record: dict[str, Any] | None = None
    keys: str = ""
    dtmf: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ivr_reached(self) -> bool:
        return self.record is not None

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "outcome": self.outcome,
            "ivr_reached": self.ivr_reached,
            "sip_call_id": self.sip_call_id,
            "seconds": round(self.seconds, 2),
            "keys": self.keys,
            "dtmf": self.dtmf,
            "detail": self.detail,
            "ivr": self.record,
        }


def free_port(kind: socket.SocketKind = socket.SOCK_DGRAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def place_call(
    target: str,
    number: str,
    script: CallerScript,
    lookup: RecordLookup | None = None,
    timeout_s: float = 120,
    record_wait_s: float = 5,
) -> CallResult:
    """Dial `number` at `target` (host:port), act out `script`, and wait for the IVR's record."""
    if shutil.which("sipp") is None:
        raise ConfigError("sipp is missing: apt-get install sip-tester")
    token = secrets.token_hex(6)
    sip_call_id = f"hotline.{token}.1@127.0.0.1"
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="hotline-call-") as work:
        exit_code, detail = _run_sipp(Path(work), target, number, script, token, timeout_s)
    result = CallResult(
        number=number,
        outcome="completed" if exit_code == 0 else "failed",
        sip_call_id=sip_call_id,
        seconds=time.monotonic() - started,
        detail=detail,
        keys=script.keys,
        dtmf=script.dtmf,
    )
    if lookup is not None:
        result.record = _wait_for_record(lookup, sip_call_id, record_wait_s)
    return result


def _run_sipp(
    work: Path, target: str, number: str, script: CallerScript, token: str, timeout_s: float
) -> tuple[int, str]:
    scenario = work / "caller.xml"
    if script.dtmf == "rfc2833":
        for index, key in enumerate(script.keys):
            (work / f"dtmf_{index}.pcap").write_bytes(pcap_bytes(key, index))
    scenario.write_text(caller_scenario(script, pcap_dir=str(work)))
    cmd = [
        "sipp", target, "-sf", str(scenario), "-s", number, "-m", "1",
        "-i", "127.0.0.1", "-p", str(free_port()), "-mp", str(free_port()),
        "-cid_str", f"hotline.{token}.%u@%s", "-nostdin", "-trace_err",
        "-timeout", f"{int(timeout_s)}s", "-timeout_error",
    ]  # fmt: skip
    try:
        proc = subprocess.run(cmd, cwd=work, capture_output=True, text=True, timeout=timeout_s + 10)
    except subprocess.TimeoutExpired:
        return 99, f"sipp did not finish in {timeout_s:.0f} s"
    return proc.returncode, _sipp_detail(work, proc.returncode)


def _sipp_detail(work: Path, exit_code: int) -> str:
    if exit_code == 0:
        return ""
    errors = sorted(work.glob("*_errors.log"))
    lines = [ln for e in errors for ln in e.read_text(errors="replace").splitlines() if ln.strip()]
    return lines[0][:300] if lines else f"sipp exited with {exit_code}"


def _wait_for_record(
    lookup: RecordLookup, sip_call_id: str, wait_s: float
) -> dict[str, Any] | None:
    deadline = time.monotonic() + wait_s
    while True:
        record = lookup(sip_call_id)
        if record is not None and record.get("ended_at"):
            return record
        if time.monotonic() >= deadline:
            return record
        time.sleep(0.1)
