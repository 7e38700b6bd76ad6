"""FastAGI routes for operator -> lawyer: the operator's key, and the lawyer's leg notices.

`lawyer-key?mode=...` runs on the operator's channel: from the Dial bridge through the
features.conf applicationmap (`*5`, the caller hears hold music meanwhile) and from the
consult room's ConfBridge menu (`*1` conference, `*2` transfer). `lawyer-answered` and
`lawyer-left` run from the room context as the lawyer's leg answers and as any leg leaves.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from acd.consult import LawyerMode, NotAllowed
from hotline.logs import event
from ivr.acd_queue import WrapUp
from ivr.agi import ChannelGone
from ivr.fastagi import AgiCall, Handler
from ivr.flow import Prompt
from ivr.lawyer import CALL_VAR, LawyerService, NotInCall

log = logging.getLogger("hotline.lawyer")

KEY_ROUTE, ANSWERED_ROUTE, LEFT_ROUTE = "lawyer-key", "lawyer-answered", "lawyer-left"
# The legs move this long after the key's AGI returned (see LawyerService.bring_in).
KEY_DEFER_S = 0.3
_SEAT_CHANNEL = re.compile(r"^PJSIP/([0-9]{3,8})-[0-9a-f]+$")

TOLD: dict[str, dict[str, str]] = {
    "none_free": {"zh": "现在没有空闲的律师，已登记律师回电。",
                  "en": "No lawyer is free; a lawyer will call the caller back."},
    "refused": {"zh": "现在不能转接律师。", "en": "A lawyer can't be brought in now."},
}  # fmt: skip


def lawyer_key(
    service: LawyerService, audio: Callable[[Prompt], str], language: str = "zh"
) -> Handler:
    def on_key(call: AgiCall) -> None:
        found = _SEAT_CHANNEL.match(call.env.get("agi_channel", ""))
        seat = found.group(1) if found else ""
        call_id = _call_of(service, call, seat)
        told = ""
        try:
            mode = LawyerMode(call.params.get("mode", "consult"))
            outcome = service.bring_in(call_id, mode, defer_s=KEY_DEFER_S)
            told = "none_free" if outcome.lawyer is None else ""
        except (ValueError, NotAllowed, NotInCall) as exc:
            event(log, "lawyer.key_refused", level=logging.WARNING, seat=seat, call=call_id,
                  error=str(exc))  # fmt: skip
            told = "refused"
        except ChannelGone:
            return  # the operator's leg was moved to the room: nothing left to say here
        if told:
            text = TOLD[told][language]
            call.agi.stream_file(audio(Prompt(f"lawyer_{told}", language, text)), "")

    return on_key


def _call_of(service: LawyerService, call: AgiCall, seat: str) -> str:
    """The call this operator is on: set on the channel once a lawyer is involved, else the
    call the ACD connected the seat to."""
    try:
        named = str(call.agi.get_variable(CALL_VAR) or "")
    except ChannelGone:
        named = ""
    if named:
        return named
    agent = service.store.get_agent(seat) if seat else None
    return agent.current_call or "" if agent else ""


def lawyer_answered(service: LawyerService) -> Handler:
    def on_answer(call: AgiCall) -> None:
        seat, call_id = call.env.get("agi_arg_1", ""), call.env.get("agi_arg_2", "")
        service.lawyer_answered(call_id, seat)
        event(log, "lawyer.answered", call=call_id, lawyer=seat)

    return on_answer


def lawyer_left(service: LawyerService, wrap_up: WrapUp) -> Handler:
    def on_leave(call: AgiCall) -> None:
        leg, seat = call.env.get("agi_arg_1", ""), call.env.get("agi_arg_2", "")
        call_id = call.env.get("agi_arg_3", "")
        service.left(call_id, leg, seat, wrap_up.start)
        event(log, "lawyer.left", call=call_id, leg=leg, seat=seat)

    return on_leave


def routes(
    service: LawyerService, wrap_up: WrapUp, audio: Callable[[Prompt], str]
) -> dict[str, Handler]:
    return {
        KEY_ROUTE: lawyer_key(service, audio),
        ANSWERED_ROUTE: lawyer_answered(service),
        LEFT_ROUTE: lawyer_left(service, wrap_up),
    }
