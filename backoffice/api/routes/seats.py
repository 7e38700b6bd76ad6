"""Seats for the web screens: list them live, and log in, pause, ready or log out one seat."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import Field

from acd.desk import PAUSE_REASONS, SeatAction
from backoffice.api.deps import BackofficeDep, CurrentViewer
from backoffice.models import BackofficeModel
from backoffice.services import seats

router = APIRouter(prefix="/seats", tags=["seats"])
SeatId = Annotated[str, Path(pattern=r"^[0-9]{3,8}$", description="the seat (SIP account)")]
_REDIS_DOWN: dict[int | str, dict[str, Any]] = {
    503: {"description": "Redis is down; nothing was changed"}
}


class SeatPublic(BackofficeModel):
    seat: str
    role: str
    state: str
    reason: str
    registered: bool
    in_state_s: float
    call: str | None


class PauseBody(BackofficeModel):
    reason: str = Field(default=PAUSE_REASONS[0], max_length=32,
                        description=f"one of {', '.join(PAUSE_REASONS)}")  # fmt: skip


def _row(backoffice: BackofficeDep, viewer: CurrentViewer, seat: str) -> SeatPublic:
    rows = seats.seat_rows(backoffice.redis(), viewer, backoffice.settings.timezone, time.time())
    return SeatPublic(**next(r for r in rows if r["seat"] == seat))


@router.get("", response_model=list[SeatPublic], responses=_REDIS_DOWN)
def list_seats(backoffice: BackofficeDep, viewer: CurrentViewer) -> list[SeatPublic]:
    """Every seat: state, pause reason, seconds in that state, softphone registered."""
    rows = seats.seat_rows(backoffice.redis(), viewer, backoffice.settings.timezone, time.time())
    return [SeatPublic(**row) for row in rows]


def _change(
    backoffice: BackofficeDep,
    viewer: CurrentViewer,
    seat: str,
    action: SeatAction,
    reason: str = "",
) -> SeatPublic:
    seats.change(backoffice.redis(), viewer, seat, action, reason)
    return _row(backoffice, viewer, seat)


@router.post("/{seat}/login", response_model=SeatPublic, responses=_REDIS_DOWN)
def login(seat: SeatId, backoffice: BackofficeDep, viewer: CurrentViewer) -> SeatPublic:
    """Log the seat in: available, offered a waiting caller at once (own seat, or any as
    supervisor)."""
    return _change(backoffice, viewer, seat, SeatAction.LOGIN)


@router.post("/{seat}/ready", response_model=SeatPublic, responses=_REDIS_DOWN)
def ready(seat: SeatId, backoffice: BackofficeDep, viewer: CurrentViewer) -> SeatPublic:
    """Back from a pause or wrap-up: available (own seat, or any as supervisor)."""
    return _change(backoffice, viewer, seat, SeatAction.READY)


@router.post("/{seat}/logout", response_model=SeatPublic, responses=_REDIS_DOWN)
def logout(seat: SeatId, backoffice: BackofficeDep, viewer: CurrentViewer) -> SeatPublic:
    """Log the seat out: offline, offered nothing (own seat, or any as supervisor)."""
    return _change(backoffice, viewer, seat, SeatAction.LOGOUT)


@router.post("/{seat}/pause", response_model=SeatPublic, responses=_REDIS_DOWN)
def pause(
    seat: SeatId, backoffice: BackofficeDep, viewer: CurrentViewer, body: PauseBody | None = None
) -> SeatPublic:
    """Pause the seat with a reason (your own, or any as supervisor)."""
    return _change(backoffice, viewer, seat, SeatAction.PAUSE, (body or PauseBody()).reason)
