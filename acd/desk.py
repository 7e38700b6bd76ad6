"""A seat's own controls: log in, ready, pause with a reason, log out (CLI, feature codes, API)."""

from __future__ import annotations

from enum import StrEnum

from acd.model import AgentState
from acd.store import AcdStore, Assignment
from hotline.errors import HotlineError

# The pause reasons a person may give. On the softphone `*13<n>` picks the n-th (1-based);
# `*13` alone is the first. The order is part of the seat's feature codes: append only.
PAUSE_REASONS = ("break", "meal", "meeting", "training", "paperwork")


class SeatRefused(HotlineError):
    """The ACD refused a seat's state change (unknown seat, or it holds a call)."""


class BadReason(ValueError):
    """A pause reason (or reason digit) that is not one of PAUSE_REASONS."""


class SeatAction(StrEnum):
    LOGIN = "login"
    LOGOUT = "logout"
    PAUSE = "pause"
    READY = "ready"


def reason_for_digit(digit: str) -> str:
    """The pause reason a `*13<digit>` feature code names; '' is the default (break)."""
    if digit == "":
        return PAUSE_REASONS[0]
    if len(digit) == 1 and digit.isdigit() and 1 <= int(digit) <= len(PAUSE_REASONS):
        return PAUSE_REASONS[int(digit) - 1]
    raise BadReason(f"pause reason digit must be 1-{len(PAUSE_REASONS)}, not {digit!r}")


def checked_reason(reason: str) -> str:
    if reason not in PAUSE_REASONS:
        raise BadReason(f"pause reason must be one of {', '.join(PAUSE_REASONS)}, not {reason!r}")
    return reason


class SeatDesk:
    def __init__(self, store: AcdStore) -> None:
        self.store = store

    def login(self, seat: str) -> Assignment | None:
        return self.ready(seat)

    def ready(self, seat: str) -> Assignment | None:
        """Available now; a caller already waiting for this seat's skills is offered at once."""
        self._move(seat, AgentState.AVAILABLE)
        return self.store.try_match_agent(seat)

    def pause(self, seat: str, reason: str) -> None:
        self._move(seat, AgentState.PAUSED, reason or "break")

    def logout(self, seat: str) -> None:
        self._move(seat, AgentState.OFFLINE)

    def apply(self, seat: str, action: SeatAction, reason: str = "") -> Assignment | None:
        """One entry point for the feature codes and the API (the CLI names the methods)."""
        if action is SeatAction.PAUSE:
            self.pause(seat, reason)
            return None
        if action is SeatAction.LOGOUT:
            self.logout(seat)
            return None
        return self.ready(seat)

    def _move(self, seat: str, state: AgentState, reason: str | None = None) -> None:
        result = self.store.set_state(seat, state, reason)
        if not result:
            raise SeatRefused(f"seat {seat} can't go {state.value}: {result.reason}")
