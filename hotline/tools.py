"""Running an outside program (sox, espeak-ng, pip) with a time limit and a one-line reason."""

from __future__ import annotations

import subprocess


class ToolTimedOut(Exception):
    """The program ran past its time limit and was killed."""


def run_tool(
    cmd: list[str], timeout_s: float, stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(cmd, input=stdin, capture_output=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        raise ToolTimedOut(cmd[0]) from None


def failure_reason(done: subprocess.CompletedProcess[bytes], default: str = "") -> str:
    """The last line the program wrote to stderr: usually the one that says what went wrong."""
    lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
    return lines[-1] if lines else default or f"exit status {done.returncode}"
