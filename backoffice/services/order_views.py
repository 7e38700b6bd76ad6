"""How a work order is shown to one user: numbers masked or not, deadlines as traffic lights,
the actions their role has from here."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import Row

from backoffice import access
from backoffice.access import ORG_UNIT_ROLES, Viewer
from backoffice.domain import lifecycle as lc
from backoffice.domain.deadlines import DueState, due_state
from backoffice.domain.masking import mask_phone, redact_text
from backoffice.models import (
    WorkOrder,
    WorkOrderEvent,
    WorkOrderEventPublic,
    WorkOrderListItem,
    WorkOrderPublic,
    utcnow,
)
from backoffice.services.work_orders import state_of

WITHHELD = "（保密）"  # what lists show instead of a confidential order's summary

_SEVERITY = (DueState.NONE, DueState.OK, DueState.DUE_SOON, DueState.OVERDUE)


def order_due_state(order: Listed, now: datetime) -> DueState:
    """The worse of the sign and reply deadlines' traffic lights."""
    states = (due_state(order.sign_due, now), due_state(order.reply_due, now))
    return max(states, key=_SEVERITY.index)


def _masked_fields(order: WorkOrder, viewer: Viewer) -> dict[str, str]:
    if not access.masks_phone(viewer, order):
        return {}
    return {
        "caller_phone": mask_phone(order.caller_phone),
        "summary": redact_text(order.summary),
        "transcript": redact_text(order.transcript),
    }


# A whole WorkOrder, or a row of the list's columns (order_lists.list_rows).
Listed = WorkOrder | Row[Any]

# What a list shows of an order; reading just these (not the whole row through model_dump)
# is most of what a page of 100 costs.
_ITEM_FIELDS = tuple(WorkOrderListItem.model_fields)
_LIST_FIELDS = tuple(name for name in _ITEM_FIELDS if name != "due_state")
_ENUM_FIELDS = tuple(
    name
    for name, info in WorkOrderListItem.model_fields.items()
    if isinstance(info.annotation, type) and issubclass(info.annotation, Enum)
)
# The columns present_item reads (for order_lists.list_rows).
LIST_COLUMNS = _LIST_FIELDS


def present_item(order: Listed, viewer: Viewer, now: datetime | None = None) -> WorkOrderListItem:
    return WorkOrderListItem.model_validate(item_fields(order, viewer, now or utcnow()))


def item_fields(order: Listed, viewer: Viewer, now: datetime) -> dict[str, object]:
    """What `present_item` shows, unvalidated: the JSON list encodes it as it is."""
    # In the model's order (due_state's place kept), as the JSON list's answer shows it.
    fields: dict[str, object] = {
        name: None if name == "due_state" else getattr(order, name) for name in _ITEM_FIELDS
    }
    if access.masks_number(viewer.role, order.anonymous):
        fields["caller_phone"] = mask_phone(order.caller_phone)
        fields["summary"] = redact_text(order.summary)
    if order.confidential:
        fields["summary"] = WITHHELD
    fields["due_state"] = order_due_state(order, now)
    for name in _ENUM_FIELDS:
        # The plain value: pydantic_core's JSON calls back into Python for an Enum member
        # (60 of a page's 90 µs).
        fields[name] = getattr(fields[name], "value", fields[name])
    return fields


def _yuan(fen: int | None) -> Decimal | None:
    return None if fen is None else Decimal(fen).scaleb(-2)  # keeps the cents: 36000.50


def present(order: WorkOrder, viewer: Viewer, now: datetime | None = None) -> WorkOrderPublic:
    fields = {**order.model_dump(), **_masked_fields(order, viewer)}
    fields["due_state"] = order_due_state(order, now or utcnow())
    fields["wages_recovered"] = _yuan(order.wages_recovered_fen)
    fields["allowed_actions"] = _allowed_actions(order, viewer)
    return WorkOrderPublic.model_validate(fields)


def present_event(event: WorkOrderEvent, viewer: Viewer, order: WorkOrder) -> WorkOrderEventPublic:
    fields = event.model_dump()
    if access.masks_phone(viewer, order):
        fields["note"] = redact_text(event.note)
    return WorkOrderEventPublic.model_validate(fields)


def _allowed_actions(order: WorkOrder, viewer: Viewer) -> list[lc.Action]:
    if viewer.role in ORG_UNIT_ROLES and not access.acts_for_unit(viewer, order):
        return []
    return sorted(lc.allowed_actions(state_of(order), viewer.actor))
