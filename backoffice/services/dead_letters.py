"""Call events a consumer gave up on (the order intake, the transcription worker), for staff."""

from __future__ import annotations

from dataclasses import dataclass

import redis

from backoffice.errors import Forbidden, NotFound, Unavailable
from backoffice.models import User
from backoffice.services.audit import AUDIT_READERS
from hotline.callevents.stream import DeadLetter, dead_letters

# The consumer groups on the call-event stream.
GROUPS = frozenset({"backoffice", "transcription"})


@dataclass(frozen=True)
class DeadLetterView:
    entry: str
    call_id: str
    type: str
    attempts: int
    error: str


def recent(client: redis.Redis, group: str, actor: User, limit: int) -> list[DeadLetterView]:
    if actor.role not in AUDIT_READERS:
        raise Forbidden("only admins and supervisors see failed call events")
    if group not in GROUPS:
        raise NotFound(f"no consumer group {group!r}; known: {', '.join(sorted(GROUPS))}")
    try:
        rows = dead_letters(client, group, count=limit)
    except redis.RedisError as exc:
        raise Unavailable(f"Redis is not answering ({exc}); try again shortly") from None
    return [_view(d) for d in rows]


def _view(dead: DeadLetter) -> DeadLetterView:
    call_id, kind = (str(dead.fields.get(k, "")) for k in ("call_id", "type"))
    return DeadLetterView(dead.entry_id, call_id, kind, dead.attempts, dead.error)
