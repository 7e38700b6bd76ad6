"""The seats' softphone feature codes: *11 log in, *12 log out, *13[n] pause, *14 ready.

The dialplan answers the seat's call and runs the FastAGI route `seat-control` with the action,
the seat (the authenticated PJSIP endpoint, never a number the phone sent) and the pause-reason
digit. The route changes the seat's state through the same `SeatDesk` as the CLI and the API,
says what happened in the seat's language (Mandarin) and the dialplan hangs up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from acd.desk import BadReason, SeatAction, SeatDesk, SeatRefused, reason_for_digit
from hotline.logs import event
from ivr.fastagi import AgiCall, Handler
from ivr.flow import Prompt

log = logging.getLogger("hotline.acd")

ROUTE = "seat-control"
RESULT_VAR = "HOTLINE_SEAT_RESULT"  # ok / refused: what the seat's call did, for the dialplan

# What the seat hears: one short sentence per outcome (Mandarin first; English for the docs).
CONFIRMATIONS: dict[str, dict[str, str]] = {
    "login": {"zh": "已登录，可以接听来电。", "en": "Logged in, ready for calls."},
    "logout": {"zh": "已退出。", "en": "Logged out."},
    "pause": {"zh": "已暂停。", "en": "Paused."},
    "ready": {"zh": "已就绪，可以接听来电。", "en": "Ready for calls."},
    "refused": {"zh": "操作未成功。", "en": "That did not work."},
}


def seat_control(desk: SeatDesk, audio: Callable[[Prompt], str], language: str = "zh") -> Handler:
    def on_feature_code(call: AgiCall) -> None:
        action, seat = call.env.get("agi_arg_1", ""), call.env.get("agi_arg_2", "")
        digit = call.env.get("agi_arg_3", "")
        outcome = _apply(desk, action, seat, digit)
        event(log, "acd.seat_control", seat=seat, action=action, outcome=outcome)
        call.agi.set_variable(RESULT_VAR, "refused" if outcome == "refused" else "ok")
        text = CONFIRMATIONS[outcome][language]
        call.agi.stream_file(audio(Prompt(f"seat_{outcome}", language, text)), "")

    return on_feature_code


def _apply(desk: SeatDesk, action: str, seat: str, digit: str) -> str:
    try:
        chosen = SeatAction(action)
        reason = reason_for_digit(digit) if chosen is SeatAction.PAUSE else ""
        desk.apply(seat, chosen, reason)
    except (ValueError, BadReason, SeatRefused) as exc:
        event(log, "acd.seat_control_refused", level=logging.WARNING, seat=seat, error=str(exc))
        return "refused"
    return chosen.value
