"""Bringing a lawyer into a live call from the web screens (API and desk), on the same
`ivr.lawyer.LawyerService` the operator's phone key uses."""

from __future__ import annotations

import functools
import time
from collections.abc import Mapping
from typing import Any

import redis
from starlette.datastructures import State

from acd.consult import LawyerMode, NotAllowed, may_request
from acd.store import AcdStore
from backoffice.access import Viewer
from backoffice.api.state import Backoffice
from backoffice.errors import Conflict, Forbidden, NotFound, Unavailable
from backoffice.live.board import binding_key
from hotline import bootstrap
from hotline.callevents.model import CallEvent, CallEventType, at_epoch
from hotline.callevents.stream import CallEventLog
from hotline.pbx import ami
from ivr.lawyer import LawyerOutcome, LawyerService, NotInCall


def service_of(backoffice: Backoffice, state: State) -> LawyerService:
    """One service per app, built on first use (no connection is made until a request)."""
    found: LawyerService | None = getattr(state, "lawyer_service", None)
    if found is None:
        s = backoffice.settings
        client = backoffice.redis()
        secret = bootstrap.credentials(s).ami_secret
        session = functools.partial(ami.ami_session, s.ami_host, s.ami_port, s.ami_user, secret)
        events = CallEventLog(client, s.var_dir / "spool")

        def report(call_id: str, data: Mapping[str, Any]) -> None:
            events.publish(CallEvent(CallEventType.TRANSFERRED, call_id, at_epoch(time.time()),
                                     dict(data)))  # fmt: skip

        found = LawyerService(
            AcdStore(client),
            lambda timeout: session(timeout=timeout),
            backoffice.engine,
            report,
            ring_timeout_s=s.acd_ring_timeout_seconds,
            caller_id=s.hotline_number,
        )
        state.lawyer_service = found
    return found


def bring_in(
    service: LawyerService, viewer: Viewer, call_id: str, mode: LawyerMode
) -> LawyerOutcome:
    """The operator on the call, or a supervisor/admin: one step (see acd.consult)."""
    try:
        try:
            operator = service.operator_of(call_id)
        except NotInCall as exc:
            raise NotFound(str(exc)) from None
        seat = service.store.client.get(binding_key(viewer.user_id))
        if not may_request(viewer.role.value, str(seat) if seat else None, operator):
            raise Forbidden(f"only the operator on call {call_id} or a supervisor may do this")
        return service.bring_in(call_id, mode)
    except NotAllowed as exc:
        raise Conflict(str(exc)) from None
    except NotInCall as exc:
        raise NotFound(str(exc)) from None
    except redis.RedisError as exc:
        raise Unavailable(f"Redis is not answering ({exc}); nothing was changed") from None
    except ami.AmiError as exc:
        raise Unavailable(f"Asterisk did not take it ({exc})") from None
