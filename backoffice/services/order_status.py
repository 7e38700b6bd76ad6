"""Self-service status lookup for the IVR: an order's status and reply deadline by its number.

Read-only and deliberately narrow: it answers with the status and the deadline only, never a
name, a number or the matter, since whoever knows an order number can hear this much.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from backoffice.domain.lifecycle import Status
from backoffice.models import WorkOrder

# Order numbers are GH + yyyymmdd + 6 digits; a phone keypad has no letters, so callers type
# the 14 digits.
_KEYPAD_NUMBER = re.compile(r"^[0-9]{14}$")
NUMBER_PREFIX = "GH"


@dataclass(frozen=True)
class OrderStatus:
    number: str
    status: Status
    reply_due: datetime | None  # None once replied, or when the order has no deadline yet


def number_from_keys(digits: str) -> str | None:
    return NUMBER_PREFIX + digits if _KEYPAD_NUMBER.match(digits) else None


def lookup(engine: Engine, digits: str) -> OrderStatus | None:
    number = number_from_keys(digits)
    if number is None:
        return None
    with Session(engine) as session:
        order = session.exec(select(WorkOrder).where(WorkOrder.number == number)).first()
        if order is None:
            return None
        due = order.reply_due if order.status in _AWAITING_REPLY else None
        return OrderStatus(order.number, order.status, due)


_AWAITING_REPLY = frozenset(
    {Status.ACCEPTED, Status.DISPATCHED, Status.SIGNED, Status.HANDLING, Status.RETURNED,
     Status.REOPENED}
)  # fmt: skip
