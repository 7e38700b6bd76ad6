"""What the admin pages change outside the back office's own tables: seats (database, ACD in
Redis, SIP account in Asterisk), the skill catalogue, calendar overrides and speech rules.

Form checks are pure and return message keys per field, so a page shows each error next to
its field and keeps what was typed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
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
from ivr.flow.validate import parse_flow_yaml, validate_flow_text

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
    from ivr.flowstore import FlowVersion

    tables = [
        seats.SeatConfig.__table__,  # type: ignore[attr-defined]
        skills.SkillLabel.__table__,  # type: ignore[attr-defined]
        holidays.HolidayOverride.__table__,  # type: ignore[attr-defined]
        rulestore.SpeechRulesVersion.__table__,  # type: ignore[attr-defined]
        FlowVersion.__table__,  # type: ignore[attr-defined]
    ]
    SQLModel.metadata.create_all(engine, tables=tables)


# --- queues (the `queues:` section of the active flow) ------------------------------------


@dataclass(frozen=True)
class QueueForm:
    queue: str
    wrap_up_s: str
    max_wait_s: str
    escalation: str  # YAML list of steps, e.g. "- {after_s: 30, min_level_delta: -2}"


def queue_fields(settings: Mapping[str, Any]) -> dict[str, str]:
    """A queue's settings as the form shows them (pure)."""
    steps = settings.get("escalation") or []
    return {
        "wrap_up_s": _number_text(settings.get("wrap_up_s")),
        "max_wait_s": _number_text(settings.get("max_wait_s")),
        "escalation": _dump_steps(steps),
    }


def with_queue(flow_text: str, form: QueueForm) -> tuple[str | None, dict[str, str]]:
    """The flow text with this queue's wrap-up, maximum wait and escalation steps replaced, or
    the errors by field; the whole flow is validated, so the result is publishable (pure)."""
    # The flow's own loader: plain YAML would read the keys on/yes/no as booleans.
    data, problems = parse_flow_yaml(flow_text)
    if problems:
        return None, {"flow": "; ".join(str(p) for p in problems)}
    queues = data.setdefault("queues", {}) if isinstance(data, dict) else None
    if not isinstance(queues, dict) or form.queue not in queues:
        return None, {"queue": f"no queue {form.queue!r} in the flow's queues: section"}
    errors: dict[str, str] = {}
    entry = dict(queues[form.queue] or {})
    for name in ("wrap_up_s", "max_wait_s"):
        raw = getattr(form, name).strip()
        try:
            value = float(raw) if raw else None
        except ValueError:
            errors[name] = f"{raw!r} is not a number of seconds"
            continue
        if value is None:
            entry.pop(name, None)
        else:
            entry[name] = int(value) if value.is_integer() else value
    try:
        steps = yaml.safe_load(form.escalation) if form.escalation.strip() else []
    except yaml.YAMLError:
        steps, errors["escalation"] = None, "not valid YAML"
    if steps is not None and not isinstance(steps, list):
        errors["escalation"] = "a list of steps, each like - {after_s: 30, min_level_delta: -2}"
    if errors:
        return None, errors
    if steps:
        entry["escalation"] = steps
    else:
        entry.pop("escalation", None)
    queues[form.queue] = entry
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
    _, issues = validate_flow_text(text)
    if issues:
        return None, {"flow": "; ".join(str(i) for i in issues)}
    return text, {}


def _number_text(value: object) -> str:
    if value is None:
        return ""
    return f"{value:g}" if isinstance(value, float) else str(value)


def _dump_steps(steps: list[Any]) -> str:
    if not steps:
        return ""
    return yaml.safe_dump(steps, allow_unicode=True, sort_keys=False, default_flow_style=None)
