"""Background processes the hotline starts itself (FastAGI server, a local Redis): pid files."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from hotline.errors import HotlineError


@dataclass(frozen=True)
class Daemon:
    name: str
    argv: tuple[str, ...]
    pid_file: Path
    log_file: Path
    port: tuple[str, int] | None = None  # ready when this TCP address accepts

    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if process_alive(pid) else None

    def start(self, env: dict[str, str] | None = None, ready_s: float = 30) -> int:
        running = self.pid()
        if running is not None:
            return running
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env=env,
            )
        self.pid_file.write_text(f"{proc.pid}\n")
        self._wait_ready(proc, ready_s)
        return proc.pid

    def stop(self, timeout: float = 35) -> bool:
        pid = self.pid()
        self.pid_file.unlink(missing_ok=True)
        if pid is None:
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while process_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if process_alive(pid):
            os.kill(pid, signal.SIGKILL)
        return True

    def _wait_ready(self, proc: subprocess.Popen[bytes], ready_s: float) -> None:
        deadline = time.monotonic() + ready_s
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                self.pid_file.unlink(missing_ok=True)
                raise HotlineError(f"{self.name} exited at start: {last_line(self.log_file)}")
            if self.port is None or port_open(*self.port):
                return
            time.sleep(0.1)
        raise HotlineError(f"{self.name} did not get ready in {ready_s:.0f} s; see {self.log_file}")


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def last_line(path: Path) -> str:
    try:
        lines = [ln for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return f"(no log at {path})"
    return lines[-1][:300] if lines else f"(empty log {path})"


def process_alive(pid: int) -> bool:
    """True while the process runs; reaps it if it is our zombie child."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return True
    if state == "Z":
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        return False
    return True
