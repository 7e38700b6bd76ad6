"""A work order's call recordings: which legs exist, who may hear them, and the audit entry.

The ACD's MixMonitor writes `recordings/calls/<uniqueid>{,-caller,-agent}.wav` and the order's
`call_id` is that unique id. Hearing a recording is as sensitive as reading a confidential
order: every request that serves audio is written to the audit log, range requests included,
so skipping the first bytes does not skip the entry.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session

from backoffice.domain.lifecycle import Role
from backoffice.errors import Forbidden, NotFound
from backoffice.models import AuditAction, User, WorkOrder
from backoffice.services import audit, work_orders

# The provincial centre and the duty lawyers take the calls; handlers get the order's facts,
# viewers figures. Neither hears the caller's voice.
LISTENERS = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.OPERATOR, Role.LAWYER})
LEGS: Mapping[str, str] = {"mixed": "", "caller": "-caller", "agent": "-agent"}
# Asterisk unique ids are "<epoch>.<sequence>"; anything else never names a file here.
_CALL_ID = re.compile(r"^[0-9A-Za-z_-]+(\.[0-9A-Za-z_-]+)*$")


@dataclass(frozen=True)
class Leg:
    name: str  # mixed, caller, agent
    path: Path
    size: int


def may_listen(role: Role) -> bool:
    return role in LISTENERS


def legs_of(order: WorkOrder, recordings_dir: Path) -> list[Leg]:
    """The recorded legs of the order's call that are on disk (none for a web order)."""
    if not order.call_id or not _CALL_ID.match(order.call_id):
        return []
    base = recordings_dir / "calls"
    found = []
    for name, suffix in LEGS.items():
        path = base / f"{order.call_id}{suffix}.wav"
        if path.is_file():
            found.append(Leg(name, path, path.stat().st_size))
    return found


def open_leg(
    session: Session,
    order_id: int,
    leg: str,
    actor: User,
    recordings_dir: Path,
    *,
    ip: str = "",
    byte_range: str = "",
) -> Leg:
    """The leg to stream, after the access rules (404 not visible, 403 role) and the audit entry.

    The order's own rules come first, so a refused user learns nothing about another unit's
    order; the role check follows; then the entry is committed before any audio is sent.
    """
    order = work_orders.get(session, order_id, actor, ip=ip)
    if not may_listen(actor.role):
        raise Forbidden(f"a {actor.role} may not listen to call recordings")
    chosen = next((x for x in legs_of(order, recordings_dir) if x.name == leg), None)
    if chosen is None:
        raise NotFound(f"work order {order.number} has no {leg} recording")
    data = {"number": order.number, "leg": leg, "range": byte_range[:64]}
    audit.record(
        session, actor.id, AuditAction.VIEW_RECORDING, "work_order", str(order.id), ip=ip, data=data
    )
    session.commit()
    return chosen
