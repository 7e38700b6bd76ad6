"""Seat control for the web screens: who may change which seat, on the ACD's own SeatDesk."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import redis

from acd.desk import BadReason, SeatAction, SeatDesk, SeatRefused, checked_reason
from acd.store import AcdStore
from backoffice.access import Viewer
from backoffice.domain.lifecycle import Role
from backoffice.errors import Conflict, Forbidden, Invalid, NotFound, Unavailable
from backoffice.live.board import binding_key
from hotline.callevents.figures import LiveFigures

DESK_ROLES = frozenset({Role.OPERATOR, Role.LAWYER, Role.SUPERVISOR, Role.ADMIN})
ANY_SEAT = frozenset({Role.SUPERVISOR, Role.ADMIN})
T = TypeVar("T")


def _redis(call: Callable[[], T]) -> T:
    try:
        return call()
    except redis.RedisError as exc:
        raise Unavailable(f"Redis is not answering ({exc}); nothing was changed") from None


def seat_rows(
    client: redis.Redis, viewer: Viewer, timezone: str, now: float
) -> list[dict[str, Any]]:
    """Every seat with its state, reason and seconds in that state."""
    if viewer.role not in DESK_ROLES:
        raise Forbidden(f"a {viewer.role} may not see the seats")
    store = AcdStore(client)
    figures = LiveFigures(client, timezone)
    return _redis(lambda: [s.as_dict() for s in figures.seats(store, now)])


def own_seat(client: redis.Redis, viewer: Viewer) -> str | None:
    """The seat this person sits at (chosen on the desk), if any."""
    seat = _redis(lambda: client.get(binding_key(viewer.user_id)))
    return str(seat) if seat else None


def change(
    client: redis.Redis, viewer: Viewer, seat: str, action: SeatAction, reason: str = ""
) -> None:
    """Operators and lawyers change their own seat; supervisors and admins any seat."""
    if viewer.role not in DESK_ROLES:
        raise Forbidden(f"a {viewer.role} may not change seats")
    store = AcdStore(client)
    if _redis(lambda: store.get_agent(seat)) is None:
        raise NotFound(f"no seat {seat!r}")
    if viewer.role not in ANY_SEAT and own_seat(client, viewer) != seat:
        raise Forbidden(f"seat {seat} is not yours: choose your seat on the desk first")
    try:
        if action is SeatAction.PAUSE:
            reason = checked_reason(reason)
        _redis(lambda: SeatDesk(store).apply(seat, action, reason))
    except BadReason as exc:
        raise Invalid(str(exc)) from None
    except SeatRefused as exc:
        raise Conflict(str(exc)) from None
