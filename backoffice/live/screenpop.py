"""The screen pop: what an agent sees when a call rings or is answered. Assembly is pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from backoffice.access import masks_number
from backoffice.domain.lifecycle import Role
from backoffice.domain.masking import mask_phone
from hotline.callevents.live import LiveCall

# Flow variables the pop shows when present: the menu's topic, and what a speech node heard.
TOPIC = "topic"
SPOKEN_PROBLEM = "speech_text"
SPOKEN_CATEGORY = "speech_category"


@dataclass(frozen=True)
class EarlierOrder:
    number: str
    category: str
    status: str
    summary: str
    created_at: str


@dataclass(frozen=True)
class ScreenPop:
    call_id: str
    caller: str  # masked when the role must not see it
    region: str
    language: str
    path: Sequence[Mapping[str, Any]]
    topic: str
    spoken_problem: str
    spoken_category: str
    earlier: Sequence[EarlierOrder] = field(default_factory=tuple)


def assemble(call: LiveCall, role: Role, region: str, earlier: Sequence[EarlierOrder]) -> ScreenPop:
    hidden = masks_number(role, anonymous=False)
    return ScreenPop(
        call_id=call.call_id,
        caller=mask_phone(call.caller) if hidden else call.caller,
        region=region,
        language=call.language,
        path=[dict(step) for step in call.path],
        topic=call.variables.get(TOPIC, ""),
        spoken_problem=call.variables.get(SPOKEN_PROBLEM, ""),
        spoken_category=call.variables.get(SPOKEN_CATEGORY, ""),
        earlier=tuple(earlier),
    )
