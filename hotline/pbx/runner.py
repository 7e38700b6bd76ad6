"""Start, stop, render and reload the hotline's Asterisk; mounts for the sandbox."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from asterisk_conf import render_config
from hotline.daemon import process_alive
from hotline.errors import ConfigError, DependencyDown, HotlineError
from hotline.pbx import ami
from hotline.pbx.context import pbx_context
from hotline.pbx.install import Installation, require_root
from hotline.secrets import Credentials
from hotline.settings import Settings

BOOT_TIMEOUT_S = 60.0
_RECORDING_DIRS = ("calls", "messages", "speech", "prompts", "uploads")


@dataclass
class Status:
    running: bool
    pid: int | None
    version: str = ""
    detail: str = ""


class Pbx:
    """One Asterisk installation driven by the hotline's settings."""

    def __init__(self, settings: Settings, inst: Installation, creds: Credentials) -> None:
        self.settings = settings
        self.inst = inst
        self.creds = creds
        # PbxContext fields to override when rendering (benchmarks add their native menu).
        self.extra: dict[str, Any] = {}
        self.pid_file = settings.var_dir / "run" / "asterisk.pid"
        self.console_log = settings.var_dir / "log" / "asterisk-console.log"

    def _dir(self, key: str) -> Path:
        return self.inst.host_path(self.inst.dirs(self.settings.var_dir)[key])

    @property
    def config_dir(self) -> Path:
        return self._dir("astetcdir")

    @property
    def log_file(self) -> Path:
        return self._dir("astlogdir") / "messages.log"

    # ------------------------------------------------------------------ config
    def render(self) -> list[Path]:
        """Write every config file; returns the paths written."""
        ctx = replace(pbx_context(self.settings, self.creds, self.inst), **self.extra)
        files = render_config(ctx)
        self.config_dir.mkdir(parents=True, exist_ok=True)
        _, gid = self._asterisk_ids()
        written = []
        for name, text in files.items():
            path = self.config_dir / name
            # Secrets inside: readable by Asterisk's group, nobody else.
            _write_atomic(path, text, mode=0o640, gid=gid)
            written.append(path)
        return written

    def reload(self, module: str | None = None) -> None:
        """Render, then have the running Asterisk re-read its config through AMI."""
        self.render()
        s = self.settings
        with ami.ami_session(s.ami_host, s.ami_port, s.ami_user, self.creds.ami_secret) as client:
            ami.send(client, ami.RELOAD, **({"Module": module} if module else {}))

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> Status:
        current = self.status()
        if current.running:
            return current
        if self.inst.mode == "sandbox":
            require_root("running the Asterisk sandbox")
        self._check_ports_free()
        self.render()
        self._prepare_dirs()
        if self.inst.mode == "sandbox":
            self._mount()
            _know_own_hostname(self.inst.root / "etc" / "hosts")
        self._launch()
        return self._wait_booted()

    def stop(self) -> None:
        pid = self._pid()
        if pid is not None and process_alive(pid):
            self.rx("core stop now", check=False)
            if not _wait_exit(pid, 10.0):
                os.kill(pid, signal.SIGTERM)
                if not _wait_exit(pid, 5.0):
                    os.kill(pid, signal.SIGKILL)
        self.pid_file.unlink(missing_ok=True)
        if self.inst.mode == "sandbox":
            self._unmount()

    def status(self) -> Status:
        pid = self._pid()
        if pid is None or not process_alive(pid):
            return Status(running=False, pid=None)
        result = self.rx("core show version", check=False, timeout=5)
        return Status(running=result.returncode == 0, pid=pid, version=result.stdout.strip())

    def rx(
        self, command: str, *, check: bool = True, timeout: float = 15
    ) -> subprocess.CompletedProcess[str]:
        """Run one Asterisk CLI command through the control socket."""
        result = subprocess.run(
            self.inst.command(self.settings.var_dir, "-rx", command),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise DependencyDown(
                f"Asterisk is not answering ({command!r}): run `hotline asterisk start`"
            )
        return result

    # ------------------------------------------------------------------ internals
    def _pid(self) -> int | None:
        try:
            return int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None

    def _check_ports_free(self) -> None:
        s = self.settings
        _ensure_free(socket.SOCK_DGRAM, s.sip_bind, s.sip_port, "HOTLINE_SIP_PORT")
        _ensure_free(socket.SOCK_STREAM, s.ami_host, s.ami_port, "HOTLINE_AMI_PORT")

    def _prepare_dirs(self) -> None:
        uid, gid = self._asterisk_ids()
        for sub in _RECORDING_DIRS:
            path = self.settings.recordings_dir / sub
            path.mkdir(parents=True, exist_ok=True)
            os.chown(path, uid, gid)
            path.chmod(0o775)
        self.settings.recordings_dir.chmod(0o755)
        for key in ("astvarlibdir", "astspooldir", "astrundir", "astlogdir"):
            path = self._dir(key)
            path.mkdir(parents=True, exist_ok=True)
            os.chown(path, uid, gid)

    def _asterisk_ids(self) -> tuple[int, int]:
        passwd = self.inst.root / "etc" / "passwd"
        for line in passwd.read_text().splitlines():
            fields = line.split(":")
            if fields[0] == "asterisk":
                return int(fields[2]), int(fields[3])
        return os.getuid(), os.getgid()

    def _mount(self) -> None:
        proc = self.inst.root / "proc"
        if not _is_mounted(proc):
            _run(["mount", "-t", "proc", "proc", str(proc)])
        recordings = self.settings.recordings_dir
        target = self.inst.root / str(recordings).lstrip("/")
        if not _is_mounted(target):
            target.mkdir(parents=True, exist_ok=True)
            _run(["mount", "--bind", str(recordings), str(target)])

    def _unmount(self) -> None:
        target = self.inst.root / str(self.settings.recordings_dir).lstrip("/")
        paths = [target]
        # /proc is shared by every instance in the sandbox: the last one out unmounts it.
        if not _processes_in(self.inst.root):
            paths.append(self.inst.root / "proc")
        for path in paths:
            if _is_mounted(path):
                subprocess.run(["umount", "-l", str(path)], capture_output=True)

    def _launch(self) -> None:
        self.console_log.parent.mkdir(parents=True, exist_ok=True)
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        args = ["-f", "-U", "asterisk", "-G", "asterisk"] if self.inst.mode == "sandbox" else ["-f"]
        with self.console_log.open("ab") as log:
            proc = subprocess.Popen(
                self.inst.command(self.settings.var_dir, *args),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.pid_file.write_text(f"{proc.pid}\n")

    def _wait_booted(self) -> Status:
        deadline = time.monotonic() + BOOT_TIMEOUT_S
        pid = self._pid()
        while time.monotonic() < deadline:
            if pid is None or not process_alive(pid):
                raise HotlineError(f"Asterisk exited during start; see {self.console_log}")
            result = self.rx("core waitfullybooted", check=False, timeout=10)
            if result.returncode == 0:
                return self.status()
            time.sleep(0.2)
        raise HotlineError(
            f"Asterisk did not finish booting in {BOOT_TIMEOUT_S:.0f} s; see {self.console_log}"
        )


def _ensure_free(kind: socket.SocketKind, host: str, port: int, setting: str) -> None:
    proto = "udp" if kind == socket.SOCK_DGRAM else "tcp"
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            raise ConfigError(
                f"port {port}/{proto} on {host} is taken by another program: "
                f"stop it or set {setting}"
            ) from None


def _wait_exit(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process_alive(pid):
            return True
        time.sleep(0.1)
    return False


def _know_own_hostname(hosts: Path) -> None:
    """Asterisk looks up its own host name to find its address; without an /etc/hosts entry it
    asks DNS (and then for A.ROOT-SERVERS.NET) every 30 s, which stalls where there is none."""
    name = socket.gethostname()
    lines = hosts.read_text().splitlines() if hosts.exists() else ["127.0.0.1 localhost"]
    if any(name in line.split()[1:] for line in lines if line and not line.startswith("#")):
        return
    hosts.write_text("\n".join([*lines, f"127.0.1.1 {name}"]) + "\n")


def _processes_in(root: Path) -> bool:
    target = str(root.resolve())
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if os.readlink(entry / "root") == target:
                    return True
    return False


def _is_mounted(path: Path) -> bool:
    target = str(path.resolve())
    with open("/proc/mounts") as mounts:
        return any(line.split()[1] == target for line in mounts)


def _run(cmd: list[str]) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise HotlineError(f"{' '.join(cmd)} failed: {result.stderr.strip()}")


def _write_atomic(path: Path, text: str, *, mode: int, gid: int) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.chmod(mode)
    with contextlib.suppress(PermissionError):
        os.chown(tmp, -1, gid)
    os.replace(tmp, path)
