"""Generated credentials (AMI, seat softphones), kept in var/secrets.json readable by root only."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path


def new_secret() -> str:
    # token_hex keeps the value inside the characters Asterisk config accepts unquoted.
    return secrets.token_hex(16)


@dataclass
class Credentials:
    ami_secret: str
    seat_passwords: dict[str, str] = field(default_factory=dict)


def load_credentials(var_dir: Path, seats: tuple[str, ...] = ()) -> Credentials:
    """Read the credentials, generating whatever is missing, and persist them."""
    path = var_dir / "secrets.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    creds = Credentials(
        ami_secret=data.get("ami_secret") or new_secret(),
        seat_passwords=dict(data.get("seat_passwords", {})),
    )
    for seat in seats:
        creds.seat_passwords.setdefault(seat, new_secret())
    if data != _as_json(creds):
        _write_private(path, _as_json(creds))
    return creds


def forget_seat(var_dir: Path, seat: str) -> None:
    """Drop a removed seat's SIP password, so the next render has no account for it."""
    path = var_dir / "secrets.json"
    if not path.exists():
        return
    data = json.loads(path.read_text())
    passwords = dict(data.get("seat_passwords", {}))
    if passwords.pop(seat, None) is not None:
        _write_private(path, {**data, "seat_passwords": passwords})


def _as_json(creds: Credentials) -> dict[str, object]:
    return {"ami_secret": creds.ami_secret, "seat_passwords": creds.seat_passwords}


def _write_private(path: Path, data: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(data, out, indent=2, sort_keys=True)
    os.replace(tmp, path)
