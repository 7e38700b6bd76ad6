"""A seat's own controls: log in, ready, pause with a reason, log out (CLI, feature codes, API)."""

from __future__ import annotations

from acd.model import AgentState
from acd.store import AcdStore, Assignment
from hotline.errors import HotlineError


class SeatRefused(HotlineError):
    """The ACD refused a seat's state change (unknown seat, or it holds a call)."""


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

    def _move(self, seat: str, state: AgentState, reason: str | None = None) -> None:
        result = self.store.set_state(seat, state, reason)
        if not result:
            raise SeatRefused(f"seat {seat} can't go {state.value}: {result.reason}")
