"""The `order_status` handoff: the caller typed an order number and hears its status.

The flow's prompts speak `{order_status}` and `{order_deadline}`; this adapter fills them in
the caller's language. The back office's database is down: the caller is not left in
silence, the flow's `not_found` branch runs and offers the operator.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.exc import SQLAlchemyError

from backoffice.domain.lifecycle import Status
from backoffice.services.order_status import OrderStatus
from hotline.logs import event
from ivr.fastagi import AgiCall
from ivr.flow import Handoff, Outcome
from ivr.session import HandoffHandler

log = logging.getLogger("hotline.ivr")

STATUS_VAR = "order_status"
DEADLINE_VAR = "order_deadline"

_SPOKEN: dict[str, dict[Status, str]] = {
    "zh": {
        Status.ACCEPTED: "已受理，等待派发",
        Status.DISPATCHED: "已派发，等待承办单位签收",
        Status.SIGNED: "承办单位已签收",
        Status.HANDLING: "正在办理",
        Status.REPLIED: "已答复",
        Status.FEEDBACK: "已答复，等待回访",
        Status.RETURN_VISIT: "正在回访",
        Status.CLOSED: "已办结",
        Status.RETURNED: "正在重新派发",
        Status.REOPENED: "已重新办理",
    },
    "en": {
        Status.ACCEPTED: "received, waiting to be dispatched",
        Status.DISPATCHED: "dispatched, waiting for the local union to take it",
        Status.SIGNED: "taken by the local union",
        Status.HANDLING: "being handled",
        Status.REPLIED: "answered",
        Status.FEEDBACK: "answered, a follow-up call is due",
        Status.RETURN_VISIT: "in follow-up",
        Status.CLOSED: "closed",
        Status.RETURNED: "being dispatched again",
        Status.REOPENED: "being handled again",
    },
}


def spoken_deadline(due: datetime | None, language: str, timezone: str) -> str:
    if due is None:
        return ""
    day = due.astimezone(ZoneInfo(timezone)).date()
    if language == "zh":
        return f"，答复期限为{day.month}月{day.day}日"
    return f" The reply is due by {day:%B} {day.day}."


def spoken(found: OrderStatus, language: str, timezone: str) -> dict[str, str]:
    words = _SPOKEN.get(language, _SPOKEN["zh"])
    return {
        STATUS_VAR: words[found.status],
        DEADLINE_VAR: spoken_deadline(found.reply_due, language, timezone),
    }


Lookup = Callable[[str], OrderStatus | None]


def order_status_reader(lookup: Lookup, timezone: str) -> HandoffHandler:
    def read_status(call: AgiCall, handoff: Handoff) -> Outcome:
        variable = str(handoff.params.get("variable", "order_no"))
        digits = handoff.variables.get(variable, "")
        try:
            found = lookup(digits)
        except SQLAlchemyError as exc:
            event(log, "ivr.order_lookup_failed", level=logging.ERROR,
                  uniqueid=call.uniqueid, error=str(exc).splitlines()[0])  # fmt: skip
            return Outcome("not_found")
        event(log, "ivr.order_lookup", uniqueid=call.uniqueid, found=found is not None)
        if found is None:
            return Outcome("not_found")
        return Outcome("found", spoken(found, handoff.language, timezone))

    return read_status
