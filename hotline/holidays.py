"""The centre's own calendar overrides, stored in the database: a local closure (a typhoon day,
a staff event) or an extra working day, each with a reason. The pure calendar functions take
them as a mapping (hotline/workdays.py); this module reads and writes them."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from datetime import date

from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel, col, select

from hotline.workdays import Overrides

MAX_REASON = 200
REFRESH_S = 5.0  # a saved override reaches running calls within this long


class HolidayOverride(SQLModel, table=True):
    __tablename__ = "holiday_override"

    day: date = Field(primary_key=True)
    working: bool  # True: open after all; False: closed
    reason: str = Field(max_length=MAX_REASON)


def check_override(day: date, working: bool, reason: str) -> HolidayOverride:
    """A valid override, or ValueError('reason') when no reason is given (pure)."""
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON:
        raise ValueError("reason")
    return HolidayOverride(day=day, working=working, reason=reason)


def listed(engine: Engine) -> list[HolidayOverride]:
    with Session(engine) as session:
        return list(session.exec(select(HolidayOverride).order_by(col(HolidayOverride.day))).all())


def overrides_in(session: Session) -> dict[date, bool]:
    return {row.day: row.working for row in session.exec(select(HolidayOverride)).all()}


def overrides(engine: Engine) -> dict[date, bool]:
    with Session(engine) as session:
        return overrides_in(session)


def save_override(engine: Engine, row: HolidayOverride) -> None:
    with Session(engine) as session:
        session.merge(row)
        session.commit()


def delete_override(engine: Engine, day: date) -> bool:
    with Session(engine) as session:
        row = session.get(HolidayOverride, day)
        if row is None:
            return False
        session.delete(row)
        session.commit()
        return True


class OverridesCache:
    """The overrides for the call path: read at most every REFRESH_S, the last good copy kept
    when the database is briefly away (a call must not fail over the calendar)."""

    def __init__(
        self,
        engine: Engine,
        refresh_s: float = REFRESH_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._refresh_s = refresh_s
        self._clock = clock
        self._lock = threading.Lock()
        self._value: Overrides = {}
        self._read_at: float | None = None

    def get(self) -> Overrides:
        with self._lock:
            now = self._clock()
            if self._read_at is None or now - self._read_at >= self._refresh_s:
                # Any database trouble: keep the last copy.
                with contextlib.suppress(Exception):
                    self._value = overrides(self._engine)
                self._read_at = now
            return self._value
