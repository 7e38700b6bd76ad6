"""The live data behind the desk and the wallboard, read from the ACD's Redis.

One snapshot serves every open screen: `Board.latest` reads Redis at most once per tick
however many desks and wallboards are streaming.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import redis
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from acd.desk import SeatDesk
from acd.seats import SeatConfig
from acd.store import AcdStore
from backoffice import access
from backoffice.access import Viewer
from backoffice.jurisdiction import region_of
from backoffice.live.alerts import alerts
from backoffice.live.screenpop import EarlierOrder, ScreenPop, assemble
from backoffice.models import WorkOrder
from hotline.callevents.figures import LiveFigures, snapshot
from hotline.callevents.live import LiveCalls
from hotline.pbx.originate import Originator

TICK_S = 1.0
DESK_PREFIX = "hotline:desk:"
BINDING_TTL_S = 12 * 3600  # a shift; the same as a session
# Which seat roles a back-office role may sit at.
SEAT_ROLES: Mapping[str, frozenset[str]] = {
    "operator": frozenset({"operator"}),
    "lawyer": frozenset({"lawyer"}),
    "supervisor": frozenset({"supervisor", "operator"}),
    "admin": frozenset({"supervisor", "operator", "lawyer"}),
}


class SeatNotYours(ValueError):
    """A seat that does not exist or that this user's role may not sit at."""


def binding_key(user_id: int) -> str:
    return f"{DESK_PREFIX}user:{user_id}"


@dataclass
class Board:
    store: AcdStore
    figures: LiveFigures
    calls: LiveCalls
    engine: Engine
    originator: Originator
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _cached: tuple[float, dict[str, Any]] = (0.0, {})

    @property
    def client(self) -> redis.Redis:
        return self.store.client

    @property
    def desk(self) -> SeatDesk:
        return SeatDesk(self.store)

    def latest(self) -> dict[str, Any]:
        with self._lock:
            at, board = self._cached
            if time.monotonic() - at >= TICK_S or not board:
                board = self._read()
                self._cached = (time.monotonic(), board)
            return board

    def _read(self) -> dict[str, Any]:
        board = snapshot(self.figures, self.store)
        board["alerts"] = [a.__dict__ for a in alerts(board["queues"])]
        board["calls"] = self._live_calls(board)
        return board

    def _live_calls(self, board: Mapping[str, Any]) -> list[dict[str, Any]]:
        now = board["at"]
        rows: dict[str, dict[str, Any]] = {}
        for w in self.store.waiting_calls():
            rows[w.call_id] = {"call": w.call_id, "queue": w.queue, "seat": None,
                               "state": "waiting", "since": now - w.enqueued_at}  # fmt: skip
        for seat in board["seats"]:
            if seat["call"]:
                call = seat["call"]
                queue = rows.get(call, {}).get("queue", "")
                rows[call] = {"call": call, "queue": queue, "seat": seat["seat"],
                              "state": seat["state"], "since": seat["in_state_s"]}  # fmt: skip
        known = self.calls.many(list(rows))
        for call_id, row in rows.items():
            row["caller"] = known[call_id].caller if call_id in known else ""
            row["since"] = round(max(0.0, row["since"]), 1)
        return sorted(rows.values(), key=lambda r: -r["since"])

    # --- seats ---------------------------------------------------------------------------

    def bind(self, user_id: int, role: str, seat: str) -> None:
        with Session(self.engine) as session:
            row = session.get(SeatConfig, seat)
        if row is None or row.role not in SEAT_ROLES.get(role, frozenset()):
            raise SeatNotYours(seat)
        self.client.set(binding_key(user_id), seat, ex=BINDING_TTL_S)

    def seat_of(self, user_id: int) -> str | None:
        seat = self.client.get(binding_key(user_id))
        return str(seat) if seat else None

    def seat_row(self, seat: str) -> dict[str, Any] | None:
        return next((s for s in self.latest()["seats"] if s["seat"] == seat), None)

    # --- screen pop ----------------------------------------------------------------------

    def screen_pop(self, call_id: str, viewer: Viewer) -> ScreenPop | None:
        call = self.calls.get(call_id)
        if call is None:
            return None
        earlier = self._earlier(call.caller, viewer)
        return assemble(call, viewer.role, region_of(call.caller), earlier)

    def _earlier(self, caller: str, viewer: Viewer) -> list[EarlierOrder]:
        if not caller or access.masks_number(viewer.role, anonymous=False):
            return []
        from backoffice.identifiers import caller_id_phone

        phone = caller_id_phone(caller)
        query = (
            select(WorkOrder)
            .where(WorkOrder.caller_phone == phone, access.visible(viewer))
            .order_by(col(WorkOrder.created_at).desc())
            .limit(10)
        )
        with Session(self.engine) as session:
            orders = list(session.exec(query).all())
        return [
            EarlierOrder(
                o.number,
                o.category.value,
                o.status.value,
                o.summary[:120],
                o.created_at.date().isoformat(),
            )
            for o in orders
        ]
