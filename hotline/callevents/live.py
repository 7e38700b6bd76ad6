"""What the desk needs to know about a call still in progress: who called and how they got here.

The IVR writes it when the caller leaves the menu for a queue (the call record in the database
is written only when the IVR session ends, long after the seat's screen must pop); the entry
expires by itself, so a crashed IVR leaves nothing behind for long.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import redis

from hotline.callevents.keys import CallEventKeys

# Longer than any call (the dialplan's absolute timeout is one hour).
LIVE_TTL_S = 2 * 3600


@dataclass(frozen=True)
class LiveCall:
    call_id: str
    caller: str = ""
    language: str = ""
    path: Sequence[Mapping[str, Any]] = ()
    variables: Mapping[str, str] = field(default_factory=dict)

    def as_json(self) -> str:
        data = {
            "call_id": self.call_id,
            "caller": self.caller,
            "language": self.language,
            "path": [dict(step) for step in self.path],
            "variables": dict(self.variables),
        }
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def live_call_from(text: str) -> LiveCall | None:
    """None for anything that is not what `as_json` wrote (a foreign or truncated value)."""
    try:
        data = json.loads(text)
        return LiveCall(
            call_id=str(data["call_id"]),
            caller=str(data.get("caller", "")),
            language=str(data.get("language", "")),
            path=[dict(step) for step in data.get("path", [])],
            variables={str(k): str(v) for k, v in dict(data.get("variables", {})).items()},
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


class LiveCalls:
    def __init__(self, client: redis.Redis, keys: CallEventKeys | None = None) -> None:
        self.client = client
        self.keys = keys or CallEventKeys()

    def remember(self, call: LiveCall) -> None:
        self.client.set(self.keys.live_call(call.call_id), call.as_json(), ex=LIVE_TTL_S)

    def get(self, call_id: str) -> LiveCall | None:
        text = self.client.get(self.keys.live_call(call_id))
        return live_call_from(str(text)) if text is not None else None

    def many(self, call_ids: Sequence[str]) -> dict[str, LiveCall]:
        if not call_ids:
            return {}
        texts = cast(list[str | None], self.client.mget([self.keys.live_call(c) for c in call_ids]))
        found = (live_call_from(t) for t in texts if t is not None)
        return {call.call_id: call for call in found if call is not None}
