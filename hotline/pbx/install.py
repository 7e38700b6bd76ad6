"""Where Asterisk lives: a system Asterisk 20+ on PATH, or the project's Debian sid chroot."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from hotline.errors import ConfigError, HotlineError
from hotline.settings import Settings

MIN_SYSTEM_MAJOR = 20
SANDBOX_SUITE = "sid"
SANDBOX_PACKAGES = ("asterisk", "asterisk-core-sounds-en-gsm", "asterisk-moh-opsound-wav")
_MARKER = ".hotline-sandbox"


@dataclass(frozen=True)
class Installation:
    """How to run one Asterisk instance and where its files are."""

    mode: str  # "system" or "sandbox"
    root: Path  # "/" for a system Asterisk, the chroot for the sandbox
    instance: str

    @property
    def base(self) -> str:
        """Where this instance's own files live, as Asterisk sees it."""
        return "/var/lib/hotline/" + self.instance if self.mode == "sandbox" else ""

    def dirs(self, var_dir: Path) -> dict[str, str]:
        """asterisk.conf [directories], as Asterisk sees them."""
        base = self.base or str(var_dir / "asterisk")
        return {
            "astetcdir": f"{base}/etc",
            "astvarlibdir": f"{base}/lib",
            "astdbdir": f"{base}/lib",
            "astkeydir": f"{base}/lib",
            "astspooldir": f"{base}/spool",
            "astrundir": f"{base}/run",
            "astlogdir": f"{base}/log",
            "astdatadir": "/usr/share/asterisk",
        }

    def host_path(self, inside: str) -> Path:
        return Path(inside) if self.mode == "system" else self.root / inside.lstrip("/")

    def command(self, var_dir: Path, *args: str) -> list[str]:
        conf = self.dirs(var_dir)["astetcdir"] + "/asterisk.conf"
        prefix = ["chroot", str(self.root)] if self.mode == "sandbox" else []
        return [*prefix, "asterisk", "-C", conf, *args]

    @property
    def moh_dir(self) -> str:
        return "/usr/share/asterisk/moh"


def parse_version(text: str) -> tuple[int, int]:
    """'Asterisk 22.10.1+dfsg...' -> (22, 10)."""
    match = re.search(r"Asterisk\s+(?:certified/)?(\d+)\.(\d+)", text)
    if not match:
        raise ValueError(f"not an Asterisk version line: {text!r}")
    return int(match.group(1)), int(match.group(2))


def system_asterisk_ok() -> bool:
    if shutil.which("asterisk") is None:
        return False
    try:
        out = subprocess.run(["asterisk", "-V"], capture_output=True, text=True, timeout=10).stdout
        return parse_version(out)[0] >= MIN_SYSTEM_MAJOR
    except (OSError, ValueError, subprocess.SubprocessError):
        return False


def locate(settings: Settings) -> Installation:
    """Decide which Asterisk to use, without installing anything."""
    mode = settings.asterisk_mode
    if mode == "auto":
        mode = "system" if system_asterisk_ok() else "sandbox"
    if mode == "system":
        return Installation("system", Path("/"), settings.asterisk_instance)
    return Installation("sandbox", settings.asterisk_sandbox_dir, settings.asterisk_instance)


def install(settings: Settings) -> Installation:
    """Make sure Asterisk is there: check the system one, or build the sandbox once."""
    inst = locate(settings)
    if inst.mode == "system":
        if not system_asterisk_ok():
            raise ConfigError(
                f"HOTLINE_ASTERISK_MODE=system but no Asterisk {MIN_SYSTEM_MAJOR}+ is on PATH; "
                "install it or set HOTLINE_ASTERISK_MODE=sandbox"
            )
        return inst
    if not (inst.root / _MARKER).exists():
        build_sandbox(inst.root)
    return inst


def require_root(what: str) -> None:
    if os.geteuid() != 0:
        raise ConfigError(
            f"{what} needs root (chroot and mount): run as root, or install Asterisk "
            f"{MIN_SYSTEM_MAJOR}+ yourself and set HOTLINE_ASTERISK_MODE=system"
        )


def build_sandbox(root: Path) -> None:
    """debootstrap a Debian sid root holding Asterisk 22; about 40 s and 500 MB."""
    require_root("building the Asterisk sandbox")
    if shutil.which("debootstrap") is None:
        raise ConfigError("debootstrap is missing: apt-get install debootstrap")
    staging = root.with_name(root.name + ".tmp")
    if staging.exists():
        shutil.rmtree(staging)
    staging.parent.mkdir(parents=True, exist_ok=True)
    cmd = ["debootstrap", "--variant=minbase", "--include=" + ",".join(SANDBOX_PACKAGES)]
    result = subprocess.run([*cmd, SANDBOX_SUITE, str(staging)], capture_output=True, text=True)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-1:]
        raise HotlineError(f"building the Asterisk sandbox failed: {' '.join(tail)}")
    _own_config_dir(staging)
    (staging / _MARKER).write_text(f"{SANDBOX_SUITE} {' '.join(SANDBOX_PACKAGES)}\n")
    if root.exists():
        shutil.rmtree(root)
    staging.rename(root)


def _own_config_dir(root: Path) -> None:
    # The stock samples configure dozens of modules we don't load; Hotline renders its own set.
    etc = root / "etc" / "asterisk"
    if etc.exists() and not (root / "etc" / "asterisk.dist").exists():
        etc.rename(root / "etc" / "asterisk.dist")
    etc.mkdir(parents=True, exist_ok=True)
