"""What the admin pages change outside the back office's own tables: seats (database, ACD in
Redis, SIP account in Asterisk), the skill catalogue, calendar overrides and speech rules.

Form checks are pure and return message keys per field, so a page shows each error next to
its field and keeps what was typed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from redis import RedisError
from sqlalchemy.engine import Engine

from acd import seats, skills
from acd.model import Role
from acd.store import AcdStore, Refusal
from hotline import bootstrap
from hotline.errors import DependencyDown
from hotline.logs import event
from hotline.secrets import forget_seat, load_credentials
from hotline.settings import Settings

log = logging.getLogger(__name__)
LANG_PREFIX = "lang_"
MAX_NAME = 64
SEAT_ROLES = tuple(r.value for r in Role)


@dataclass(frozen=True)
class SeatForm:
    """A seat as typed: id, name, role and `skill -> level text` ('' = not held)."""

    seat: str
    name: str
    role: str
    levels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckedSeat:
    seat: str
    name: str
    role: Role
    skills: dict[str, int]


def check_seat(
    form: SeatForm, known: Mapping[str, skills.SkillLabel]
) -> CheckedSeat | dict[str, str]:
    """The seat to save, or the message key for each field at fault (pure)."""
    errors: dict[str, str] = {}
    try:
        seats.check_seat_id(form.seat.strip())
    except ValueError:
        errors["seat"] = "seat.bad_id"
    if len(form.name.strip()) > MAX_NAME:
        errors["name"] = "seat.name_long"
    if form.role not in SEAT_ROLES:
        errors["role"] = "seat.bad_role"
    held: dict[str, int] = {}
    for name, level in form.levels.items():
        if not level.strip():
            continue
        if name not in known:
            errors[f"skill.{name}"] = "seat.unknown_skill"
        elif level.strip() not in {"1", "2", "3", "4", "5"}:
            errors[f"skill.{name}"] = "seat.bad_level"
        else:
            held[name] = int(level)
    if not errors and not any(not s.startswith(LANG_PREFIX) for s in held):
        errors["skills"] = "seat.no_skill"
    if errors:
        return errors
    return CheckedSeat(form.seat.strip(), form.name.strip(), Role(form.role), held)


@dataclass(frozen=True)
class SeatSaved:
    row: seats.SeatConfig
    password: str | None  # only when the seat is new: shown once on the page
    asterisk: str  # "reloaded", "rendered" or why Asterisk could not be told


class SeatBusy(Exception):
    """The seat rings or talks right now; it is not removed."""


def save_seat(settings: Settings, engine: Engine, store: AcdStore, seat: CheckedSeat) -> SeatSaved:
    """Store the seat, mirror it to the ACD and, when new, give it a SIP account at once."""
    is_new = seats.get_seat(engine, seat.seat) is None
    row = seats.save_seat(engine, seat.seat, seat.role, seat.skills, seat.name)
    seats.mirror(store, [row])
    if not is_new:
        return SeatSaved(row, None, "unchanged")
    creds = load_credentials(settings.var_dir, (row.seat,))
    return SeatSaved(row, creds.seat_passwords[row.seat], apply_to_asterisk(settings))


def remove_seat(settings: Settings, engine: Engine, store: AcdStore, seat: str) -> str:
    """Forget the seat everywhere; SeatBusy while it holds a call. Returns the Asterisk status."""
    removed = store.remove_agent(seat)
    if not removed and removed.reason == Refusal.HOLDS_CALL:
        raise SeatBusy(seat)
    seats.delete_seat(engine, seat)
    forget_seat(settings.var_dir, seat)
    return apply_to_asterisk(settings)


def apply_to_asterisk(settings: Settings) -> str:
    """Render the config; a running Asterisk reloads PJSIP through AMI (as `hotline asterisk
    reload`). A failure is reported, not raised: the seat is saved and a reload later fixes it."""
    try:
        pbx = bootstrap.pbx(settings)
        if pbx.status().running:
            pbx.reload("res_pjsip.so")
            return "reloaded"
        pbx.render()
        return "rendered"
    except (DependencyDown, OSError, RedisError) as exc:
        event(log, "admin.asterisk_not_told", level=logging.ERROR, error=str(exc))
        return f"failed: {exc}"


def ensure_tables(engine: Engine) -> None:
    """The admin's tables where the FastAGI server has not created them yet (idempotent)."""
    from sqlmodel import SQLModel

    from hotline import holidays
    from hotline.speech import rulestore

    tables = [
        seats.SeatConfig.__table__,  # type: ignore[attr-defined]
        skills.SkillLabel.__table__,  # type: ignore[attr-defined]
        holidays.HolidayOverride.__table__,  # type: ignore[attr-defined]
        rulestore.SpeechRulesVersion.__table__,  # type: ignore[attr-defined]
    ]
    SQLModel.metadata.create_all(engine, tables=tables)
