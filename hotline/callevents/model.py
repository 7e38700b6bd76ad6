"""The call event: what happened to a call, when, with its facts; encoded as stream fields.

Pure: no I/O. Producers (the IVR, the ACD) build events; consumers (the back office, the
transcription worker) decode them and must accept fields they do not know yet.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


class CallEventType(StrEnum):
    STARTED = "started"  # the IVR answered
    QUEUED = "queued"  # the caller joined a queue
    OFFERED = "offered"  # a seat is ringing
    ANSWERED = "answered"  # a seat answered
    ABANDONED = "abandoned"  # the caller hung up while waiting or ringing
    TRANSFERRED = "transferred"  # an operator brought in or handed over to another seat
    ENDED = "ended"  # the call is over; carries every fact (see CallFacts)


class MalformedEvent(ValueError):
    """A stream entry that is not a call event; consumers dead-letter it, never crash."""


@dataclass(frozen=True, slots=True)
class CallEvent:
    type: CallEventType
    call_id: str
    at: datetime
    data: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.call_id:
            raise MalformedEvent("a call event needs a call id")
        if self.at.tzinfo is None:
            raise MalformedEvent("a call event's time must be timezone-aware")


@dataclass
class CallFacts:
    """What a call's `ended` event reports: gathered while the call runs."""

    caller: str = ""
    sip_call_id: str = ""
    language: str = ""
    flow_id: str = ""
    flow_version: int = 0
    started_at: float = 0.0
    queue: str | None = None
    required: dict[str, int] = field(default_factory=dict)
    priority: int = 0
    queued_at: float | None = None
    agent: str | None = None
    answered_at: float | None = None
    abandoned: bool = False
    transfers: list[dict[str, Any]] = field(default_factory=list)
    recordings: dict[str, str] = field(default_factory=dict)  # mixed / caller / agent -> path
    message: str | None = None  # path of a message the caller left
    callback_requested: bool = False
    variables: dict[str, str] = field(default_factory=dict)  # the flow's variables (topic...)

    def wait_s(self, until: float) -> float | None:
        """Seconds in queue until answered (or until `until` for an unanswered caller)."""
        if self.queued_at is None:
            return None
        end = self.answered_at if self.answered_at is not None else until
        return round(max(0.0, end - self.queued_at), 3)

    def as_data(self, ended_at: float, result: str, path: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "caller": self.caller,
            "sip_call_id": self.sip_call_id,
            "language": self.language,
            "flow": {"id": self.flow_id, "version": self.flow_version},
            "result": result,
            "ivr_path": path,
            "variables": dict(self.variables),
            "queue": self.queue,
            "required": dict(self.required),
            "priority": self.priority,
            "agent": self.agent,
            "answered": self.answered_at is not None,
            "abandoned": self.abandoned,
            "wait_s": self.wait_s(ended_at),
            "talk_s": _talk_s(self.answered_at, ended_at),
            "transfers": list(self.transfers),
            "recordings": dict(self.recordings),
            "message": self.message,
            "callback_requested": self.callback_requested,
            "started_at": _iso(self.started_at),
            "ended_at": _iso(ended_at),
        }


def _talk_s(answered_at: float | None, ended_at: float) -> float | None:
    return None if answered_at is None else round(max(0.0, ended_at - answered_at), 3)


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def at_epoch(epoch: float) -> datetime:
    if not math.isfinite(epoch):
        raise MalformedEvent(f"bad event time {epoch!r}")
    return datetime.fromtimestamp(epoch, UTC)


def encode(ev: CallEvent) -> dict[str, str]:
    """Stream fields: flat strings, the facts as one JSON document."""
    return {
        "type": ev.type.value,
        "call_id": ev.call_id,
        "at": ev.at.isoformat(),
        "data": json.dumps(dict(ev.data), ensure_ascii=False, separators=(",", ":")),
    }


def decode(fields: Mapping[str, str]) -> CallEvent:
    try:
        kind = CallEventType(fields["type"])
        at = datetime.fromisoformat(fields["at"])
        data = json.loads(fields.get("data") or "{}")
        call_id = fields["call_id"]
    except (KeyError, ValueError, TypeError) as exc:
        raise MalformedEvent(f"not a call event: {exc}") from None
    if not isinstance(data, dict):
        raise MalformedEvent("a call event's data must be a JSON object")
    return CallEvent(type=kind, call_id=call_id, at=at, data=data)
